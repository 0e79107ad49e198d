------------------------------ MODULE MCLeaders ------------------------------
(***************************************************************************)
(* Model `leaders`: the schedule's properties on the four companies of the *)
(* Tianjin scenario (paper 004, Table 1), checked at every point of the    *)
(* grid of heights 1..MaxHeight and views 0..MaxView.  The two variables   *)
(* walk the grid one step at a time; each property is an invariant.        *)
(***************************************************************************)
EXTENDS Leaders

CONSTANTS MaxHeight, MaxView

\* The Tianjin companies sorted by (casefold(name), name), as Python does.
TianjinCompanies == <<"PTNE", "Smart Grid", "Star Charge", "TELD">>

VARIABLES height, view

Init == height = 1 /\ view = 0

\* Move to the next height, or to the next view, inside the grid.
Next == \/ height < MaxHeight /\ height' = height + 1 /\ UNCHANGED view
        \/ view < MaxView /\ view' = view + 1 /\ UNCHANGED height

Spec == Init /\ [][Next]_<<height, view>>

TypeOK == height \in 1..MaxHeight /\ view \in 0..MaxView

FirstBlock == FirstBlockByFirstCompany

ViewChange == ViewChangePassesTurn(height, view)

NextHeight == NextHeightNextCompany(height, view)

FairRotation == EachCompanyOncePerRound(height, 0) /\ EachCompanyOncePerRound(height, view)

Scheduled == ProposerIsACompany(height, view)
==============================================================================
