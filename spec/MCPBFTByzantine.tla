---------------------------- MODULE MCPBFTByzantine ----------------------------
(***************************************************************************)
(* Constants of the refinement models of PBFTByzantine.tla: as MCPBFT.tla, *)
(* the four Tianjin companies, each voting with one replica (its master    *)
(* node), in English-name order; and the orders of Byzantine sends the     *)
(* models explore.                                                         *)
(***************************************************************************)
EXTENDS PBFTByzantine, TLC

TianjinCompanies == <<"PTNE", "Smart Grid", "Star Charge", "TELD">>

OneReplicaPerCompany == {"PTNE", "Smart Grid", "Star Charge", "TELD"}

\* A company's master node is the company's replica itself.
MasterIsCompany == [c \in OneReplicaPerCompany |-> c]

\* Each replica casts one vote.
OneVoteEach == [r \in OneReplicaPerCompany |-> {r}]

\* Smart Grid is the scheduled proposer of height 1 in view 1.
ByzantineSmartGrid == {"Smart Grid"}

\* No replica.
NoReplica == {}

\* The valid blocks are interchangeable: no step of either spec names one.
ValidBlockSymmetry == Permutations(ValidBlocks)

(***************************************************************************)
(* A Byzantine message changes nothing until some honest guard reads it.   *)
(* Sent earlier, it can be sent later, at the first moment a guard can     *)
(* read it, or never, and the honest replicas take the same steps.  The    *)
(* action constraints below let a Byzantine replica send a message only    *)
(* from that moment on, so that TLC does not enumerate the same honest     *)
(* behaviour once per moment an unread message could have been sent.       *)
(* Both use that the Byzantine replicas alone are no quorum                *)
(* (ByzantineAloneAreNoQuorum in PBFT.tla).                                *)
(***************************************************************************)

\* Model pbft-byzantine-refinement-full.  A Byzantine prepare for b in view v
\* is read only by Prepared(h, v, b), which needs the primary's proposal of b
\* and honest prepares of b (so b is valid).  A Byzantine commit is read only
\* by CommitQuorum, which needs honest commits, each sent once b is prepared.
\* Proposals and view changes are not restricted.
ByzantineVotesReadable ==
    /\ \A m \in preparesAll' \ preparesAll :
          m.src \in Byzantine => m.b \in ValidBlocks /\ Proposed(m.h, m.v, m.b)
    /\ \A m \in commitsAll' \ commitsAll :
          m.src \in Byzantine => Prepared(m.h, m.v, m.b)

\* An honest replica sent a vote for block b at (h, v) in a set of votes.
HonestVoted(votes, h, v, b) == \E m \in votes : m.src \in Honest /\ m.h = h /\ m.v = v /\ m.b = b

\* Model pbft-byzantine-refinement.  As ByzantineVotesReadable, but a prepare
\* or commit for b in view v only once an honest replica sent one (no quorum
\* forms without one); a proposal only of a valid block (no honest replica
\* prepares another, so no guard reads it); a view change to view v only once
\* its primary proposed a valid block in v, or if the primary is honest (view
\* changes to v are read only by SafeBlock(h, v, _): in the primary's NewView,
\* and in Prepare, which also needs the primary's proposal).
ByzantineSendsJustInTime ==
    /\ \A m \in preparesAll' \ preparesAll :
          m.src \in Byzantine => HonestVoted(preparesAll, m.h, m.v, m.b)
    /\ \A m \in commitsAll' \ commitsAll :
          m.src \in Byzantine => HonestVoted(commitsAll, m.h, m.v, m.b)
    /\ \A m \in proposalsAll' \ proposalsAll :
          m.src \in Byzantine => m.b \in ValidBlocks
    /\ \A m \in viewChangesAll' \ viewChangesAll :
          m.src \in Byzantine =>
              \/ Primary(m.h, m.v) \in Honest
              \/ \E b \in ValidBlocks : Proposed(m.h, m.v, b)
==============================================================================
