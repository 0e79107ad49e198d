------------------------------- MODULE Leaders -------------------------------
(***************************************************************************)
(* The leader schedule of ChargeChain.                                     *)
(*                                                                         *)
(* Paper 000, step (3): the billing nodes record blocks in turn, "sorted   *)
(* by the first letter of the company's English name"; after the last      *)
(* company the turn returns to the first.  Step (4): a block every t       *)
(* seconds.  A PBFT view change at a height passes the turn to the next    *)
(* company (see PBFT.tla).                                                 *)
(*                                                                         *)
(* TLA+ has no ordering on strings, so the companies are given already in  *)
(* schedule order, as the sequence Companies.  The Python definition       *)
(* (refimpl/consensus/schedule.py) sorts by (casefold(name), name); the    *)
(* test suite checks that Python's sort yields the very sequence the TLC   *)
(* models use, and that both definitions of Proposer agree on a table of   *)
(* heights and views (model proposer-table).                               *)
(*                                                                         *)
(* A company is one entry of Companies however many nodes it runs: its     *)
(* master (anchor) node proposes for it (paper 004, section 5.1; see the   *)
(* Decisions in docs/consensus.md).  Which node that is, is PBFT's         *)
(* constant Master, not this module's concern.                             *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANT Companies   \* <<c_1, ..., c_n>>: the companies in English-name order

NumCompanies == Len(Companies)

\* The set of companies (the range of the sequence).
CompanySet == {Companies[i] : i \in 1..NumCompanies}

ASSUME CompaniesAreASchedule ==
    /\ NumCompanies >= 1
    /\ \A i, j \in 1..NumCompanies : i # j => Companies[i] # Companies[j]

(***************************************************************************)
(* Heights start at 1 (the first block above genesis) and views at 0.      *)
(* Slot(h, v) is the 1-based position in Companies of the proposer of      *)
(* block h in view v: the schedule advances by one company per height and  *)
(* by one company per view change.  This is refimpl's                      *)
(* proposer_index(h, v, n) + 1.                                            *)
(***************************************************************************)
Slot(height, view) == ((height - 1 + view) % NumCompanies) + 1

Proposer(height, view) == Companies[Slot(height, view)]

\* The position of company c in the schedule.
IndexOf(c) == CHOOSE i \in 1..NumCompanies : Companies[i] = c

\* The company after c in English-name order, wrapping to the first.
NextCompany(c) == Companies[(IndexOf(c) % NumCompanies) + 1]

(***************************************************************************)
(* Properties of the schedule, stated for one height and view so that a    *)
(* model can check them at every point of a grid of heights and views      *)
(* (MCLeaders.tla checks them as invariants: theorems checked on a finite  *)
(* instance).                                                              *)
(***************************************************************************)

\* Block 1 of view 0 is proposed by the first company in English-name order.
FirstBlockByFirstCompany == Proposer(1, 0) = Companies[1]

\* A view change passes the turn to the next company.
ViewChangePassesTurn(height, view) ==
    Proposer(height, view + 1) = NextCompany(Proposer(height, view))

\* In a fixed view, the next height is proposed by the next company.
NextHeightNextCompany(height, view) ==
    Proposer(height + 1, view) = NextCompany(Proposer(height, view))

\* Every company proposes exactly once in the NumCompanies consecutive
\* heights starting at `height`, all in view `view` (view 0: no faults).
EachCompanyOncePerRound(height, view) ==
    \A c \in CompanySet :
        Cardinality({k \in height..(height + NumCompanies - 1) :
                        Proposer(k, view) = c}) = 1

\* The proposer is always one of the companies.
ProposerIsACompany(height, view) == Proposer(height, view) \in CompanySet
==============================================================================
