--------------------------- MODULE MCProposerTable ---------------------------
(***************************************************************************)
(* Model `proposer-table`: TLC prints the company order and the Proposer   *)
(* table (heights 1..12, views 0..3) for the Tianjin companies; the test   *)
(* suite parses the printout and compares it with                          *)
(* refimpl.consensus.schedule.proposer.  The single-state behaviour only   *)
(* exists because TLC needs one; the work is done by the ASSUME.           *)
(***************************************************************************)
EXTENDS Leaders, TLC

\* The Tianjin companies sorted by (casefold(name), name), as Python does.
TianjinCompanies == <<"PTNE", "Smart Grid", "Star Charge", "TELD">>

TableHeights == 1..12
TableViews == 0..3

ProposerTable ==
    {<<h, v, Proposer(h, v)>> : h \in TableHeights, v \in TableViews}

ASSUME PrintT(<<"companies", Companies>>)
ASSUME PrintT(<<"proposer-table", ProposerTable>>)

VARIABLE done

Init == done = TRUE

Next == UNCHANGED done
==============================================================================
