-------------------------------- MODULE MCPBFT --------------------------------
(***************************************************************************)
(* Constants of the PBFT models in which each company votes with one      *)
(* replica, its master node (the standard deployment, see the Decisions in *)
(* docs/consensus.md).  The replicas are named after the four companies of *)
(* the Tianjin scenario (paper 004, Table 1), in English-name order.       *)
(* Models pbft-small, pbft-too-many-faults and pbft-liveness differ only   *)
(* in the .cfg: which replicas are faulty, heights, views and blocks.      *)
(***************************************************************************)
EXTENDS PBFT

TianjinCompanies == <<"PTNE", "Smart Grid", "Star Charge", "TELD">>

OneReplicaPerCompany == {"PTNE", "Smart Grid", "Star Charge", "TELD"}

\* A company's master node is the company's replica itself.
MasterIsCompany == [c \in OneReplicaPerCompany |-> c]

\* Each replica casts one vote.
OneVoteEach == [r \in OneReplicaPerCompany |-> {r}]

\* Smart Grid proposes block 1 in view 1 and block 2 in view 0.
ByzantineSmartGrid == {"Smart Grid"}

\* Two of four faulty: one more than F = 1.
ByzantineSmartGridAndTELD == {"Smart Grid", "TELD"}

\* TELD never proposes in heights 1..2, views 0..1: every scheduled proposer is honest.
ByzantineTELD == {"TELD"}

NoReplica == {}
==============================================================================
