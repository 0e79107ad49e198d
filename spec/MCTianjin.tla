------------------------------- MODULE MCTianjin -------------------------------
(***************************************************************************)
(* Constants of the PBFT models of the Tianjin topology (paper 004,        *)
(* section 5.1, Table 1): TELD runs 5 nodes, Star Charge 3, PTNE 2 and     *)
(* Smart Grid 5, numbered 1..15 in the order of Table 1; nodes 1, 6, 9 and *)
(* 14 are the master (anchor) nodes of the four organisations.  Every node *)
(* votes: NodeCount = 15, F = 4 (the most that 15 >= 3F + 1 allows), so    *)
(* the quorum is 10 nodes.                                                 *)
(***************************************************************************)
EXTENDS PBFT

TianjinCompanies == <<"PTNE", "Smart Grid", "Star Charge", "TELD">>

\* The nodes of each organisation (paper 004, Table 1 and Figure 4).
NodesOf == [c \in {"TELD", "Star Charge", "PTNE", "Smart Grid"} |->
               CASE c = "TELD"        -> 1..5
                 [] c = "Star Charge" -> 6..8
                 [] c = "PTNE"        -> 9..10
                 [] c = "Smart Grid"  -> 11..15]

\* The master (anchor) node of each organisation.
MasterNode == [c \in DOMAIN NodesOf |->
                  CASE c = "TELD"        -> 1
                    [] c = "Star Charge" -> 6
                    [] c = "PTNE"        -> 9
                    [] c = "Smart Grid"  -> 14]

(***************************************************************************)
(* Model tianjin-one-operator: each organisation is one replica that casts *)
(* the votes of all its nodes (its nodes act in lockstep).  Every          *)
(* behaviour of this model is a behaviour of the model with one replica    *)
(* per node in which the nodes of an organisation take the same steps one  *)
(* after the other, so the Agreement violation TLC finds here is one of    *)
(* the 15-node deployment.                                                 *)
(***************************************************************************)
Organisations == DOMAIN NodesOf

OrganisationIsItsOwnMaster == [c \in Organisations |-> c]

\* All five TELD nodes are Byzantine together: one operator, 5 > F = 4 nodes.
ByzantineTELD == {"TELD"}

(***************************************************************************)
(* Model tianjin-nodes-simulate: every node is its own replica; four       *)
(* Byzantine nodes (F = 4), all of TELD including its master node 1, so    *)
(* that the proposer of heights 4, 8, ... in view 0 is faulty.             *)
(***************************************************************************)
AllNodes == 1..15

OneVoteEachNode == [n \in AllNodes |-> {n}]

FourTELDNodes == {1, 2, 3, 4}

NoReplica == {}
==============================================================================
