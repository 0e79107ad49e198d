-------------------------------- MODULE MCPBFT --------------------------------
(***************************************************************************)
(* Constants of the PBFT models in which each company votes with one       *)
(* replica, its master node (the standard deployment, see the Decisions in *)
(* docs/consensus.md).  The replicas are named after the four companies of *)
(* the Tianjin scenario (paper 004, Table 1), in English-name order.       *)
(* Models pbft-small, pbft-views, pbft-silent-byzantine,                   *)
(* pbft-too-many-faults, pbft-liveness and pbft-liveness-stuck differ only *)
(* in the .cfg: which replicas are faulty or silent, heights, views and    *)
(* blocks.                                                                 *)
(***************************************************************************)
EXTENDS PBFT, TLC

TianjinCompanies == <<"PTNE", "Smart Grid", "Star Charge", "TELD">>

OneReplicaPerCompany == {"PTNE", "Smart Grid", "Star Charge", "TELD"}

\* A company's master node is the company's replica itself.
MasterIsCompany == [c \in OneReplicaPerCompany |-> c]

\* Each replica casts one vote.
OneVoteEach == [r \in OneReplicaPerCompany |-> {r}]

\* Smart Grid proposes height 1 in view 1 and height 2 in view 0.
ByzantineSmartGrid == {"Smart Grid"}

SilentSmartGrid == {"Smart Grid"}

\* TELD is never the proposer at heights 1..2, views 0..1 (pbft-silent-byzantine).
ByzantineTELD == {"TELD"}

\* Two of four faulty: one more than F = 1.
ByzantineSmartGridAndTELD == {"Smart Grid", "TELD"}

\* No replica.
NoReplica == {}

\* The valid blocks are interchangeable: no step of the spec names one.
ValidBlockSymmetry == Permutations(ValidBlocks)
==============================================================================
