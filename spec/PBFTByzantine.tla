---------------------------- MODULE PBFTByzantine ----------------------------
(***************************************************************************)
(* PBFT with explicit Byzantine replicas, to check the abstraction of      *)
(* PBFT.tla.                                                               *)
(*                                                                         *)
(* PBFT.tla keeps only the honest replicas' messages in the state and      *)
(* counts every Byzantine replica as having sent every message it may      *)
(* send (in Voters, Proposed, ReportingAtMost and Reported).  This module  *)
(* is the same protocol without that shortcut.  Its message sets hold the  *)
(* messages of every replica, Byzantine ones included; the honest guards   *)
(* count only messages that were actually sent; and each Byzantine replica *)
(* has steps of its own that send one message at a time.  A Byzantine      *)
(* replica may send any message that carries its own id, at any time:      *)
(*                                                                         *)
(*  - proposals of any block, valid or invalid, several per view           *)
(*    (equivocation), but only for a view in which the schedule names it.  *)
(*    A proposal from any other replica is one that no honest replica      *)
(*    reads (Proposed checks the sender), so leaving it out loses nothing; *)
(*  - prepares and commits for any block, valid or invalid, in any view;   *)
(*  - view changes that report no prepared certificate, or one that really *)
(*    exists in the messages sent: the primary's proposal of that block in *)
(*    that view and a quorum of prepares for it.                           *)
(*                                                                         *)
(* It cannot forge a message of another replica (a message's sender is its *)
(* src field) nor a prepared certificate.  Crashed replicas send nothing.  *)
(*                                                                         *)
(* The honest steps are those of PBFT.tla, word for word, read over the    *)
(* full message sets.  The refinement mapping at the end (Abstract) keeps  *)
(* the honest messages and drops the Byzantine ones, and RefinesPBFT says  *)
(* that every behaviour of this spec is, under that mapping, a behaviour   *)
(* of PBFT.tla.  TLC checks it for one height (MaxHeight = 1) in models    *)
(* pbft-byzantine-refinement and pbft-byzantine-refinement-full, which     *)
(* restrict when (not what) a Byzantine replica sends: see                 *)
(* MCPBFTByzantine.tla and docs/consensus.md.                              *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets

CONSTANTS
    Companies,      \* the companies in English-name order (see Leaders.tla)
    Replicas,       \* the replicas (billing nodes) that vote
    Master,         \* Master[c]: the replica that proposes for company c
    VotingNodes,    \* VotingNodes[r]: the physical nodes replica r votes for
    Byzantine,      \* the Byzantine replicas of this model
    Crashed,        \* the crashed replicas of this model: they send nothing
    F,              \* the number of faulty nodes the quorums are sized for
    MaxHeight,      \* the model decides heights 1..MaxHeight
    MaxView,        \* and runs views 0..MaxView at each height
    ValidBlocks,    \* block values all of whose transactions are valid
    InvalidBlocks   \* block values with at least one invalid transaction

Sched == INSTANCE Leaders

\* The definitions of PBFT.tla that do not read messages, unchanged.
Blocks == ValidBlocks \cup InvalidBlocks
Heights == 1..MaxHeight
Views == 0..MaxView
Honest == Replicas \ (Byzantine \cup Crashed)
Nodes == UNION {VotingNodes[r] : r \in Replicas}
NodeCount == Cardinality(Nodes)
Power(S) == Cardinality(UNION {VotingNodes[r] : r \in S})
Quorum == (NodeCount + F) \div 2 + 1
Primary(h, v) == Master[Sched!Proposer(h, v)]

\* The replicas that send messages at all: the honest and the Byzantine ones.
Senders == Replicas \ Crashed

-----------------------------------------------------------------------------
(***************************************************************************)
(* Messages, as in PBFT.tla, but from any replica that sends and for any   *)
(* block.  The honest messages among them have PBFT.tla's types (TypeOK).  *)
(***************************************************************************)
Vote == [h : Heights, v : Views, b : Blocks, src : Senders]
Certificate == [view : Views, block : Blocks]
ViewChangeMsg == [h : Heights, v : Views, src : Senders, prepared : SUBSET Certificate]

VARIABLES
    chain,           \* chain[r]: the blocks honest replica r decided; height i at chain[r][i]
    view,            \* view[r]: the view honest replica r is in at its current height
    proposalsAll,    \* every pre-prepare and new-view message sent, honest or Byzantine
    preparesAll,     \* every prepare message sent, honest or Byzantine
    commitsAll,      \* every commit message sent, honest or Byzantine
    viewChangesAll   \* every view-change message sent, honest or Byzantine

vars == <<chain, view, proposalsAll, preparesAll, commitsAll, viewChangesAll>>

\* The messages of a set that honest replicas sent.
HonestMsgs(msgs) == {m \in msgs : m.src \in Honest}

TypeOK ==
    /\ DOMAIN chain = Honest
    /\ \A r \in Honest : \E k \in 0..MaxHeight : chain[r] \in [1..k -> ValidBlocks]
    /\ view \in [Honest -> Views]
    /\ proposalsAll \subseteq Vote
    /\ preparesAll \subseteq Vote
    /\ commitsAll \subseteq Vote
    /\ viewChangesAll \subseteq ViewChangeMsg
    /\ \A m \in viewChangesAll : Cardinality(m.prepared) <= 1
    \* the honest replicas' messages are of PBFT.tla's types: valid blocks only
    /\ \A msgs \in {proposalsAll, preparesAll, commitsAll} :
          \A m \in HonestMsgs(msgs) : m.b \in ValidBlocks
    /\ \A m \in HonestMsgs(viewChangesAll) : \A c \in m.prepared : c.block \in ValidBlocks

-----------------------------------------------------------------------------
(***************************************************************************)
(* Derived facts, as in PBFT.tla, but over the messages actually sent: no  *)
(* replica counts as having sent a message it has not sent.                *)
(***************************************************************************)

HeightOf(r) == Len(chain[r]) + 1

Active(r) == HeightOf(r) <= MaxHeight

Msg(h, v, b, r) == [h |-> h, v |-> v, b |-> b, src |-> r]

SentIn(msgs, r, h, v) == \E m \in msgs : m.src = r /\ m.h = h /\ m.v = v

\* The scheduled proposer of view v proposed block b at height h.
Proposed(h, v, b) == Msg(h, v, b, Primary(h, v)) \in proposalsAll

\* The replicas that voted for block b at (h, v) in a set of votes.
Voters(votes, h, v, b) ==
    {m.src : m \in {x \in votes : x.h = h /\ x.v = v /\ x.b = b}}

Prepared(h, v, b) == Proposed(h, v, b) /\ Power(Voters(preparesAll, h, v, b)) >= Quorum

CommitQuorum(h, v, b) == Power(Voters(commitsAll, h, v, b)) >= Quorum

PreparedCertificate(r, h) ==
    LET mine == {m \in commitsAll : m.src = r /\ m.h = h}
    IN  {[view |-> m.v, block |-> m.b] : m \in {m \in mine : \A o \in mine : o.v <= m.v}}

ViewChanges(h, v) == {m \in viewChangesAll : m.h = h /\ m.v = v}

\* The replicas that sent a view change to (h, v) reporting no prepared
\* certificate above view w (w = -1: reporting none).
ReportingAtMost(h, v, w) ==
    {m.src : m \in {x \in ViewChanges(h, v) : \A c \in x.prepared : c.view <= w}}

\* A view change to (h, v) reports block b prepared in view w.
Reported(h, v, w, b) == \E m \in ViewChanges(h, v) : [view |-> w, block |-> b] \in m.prepared

SafeBlock(h, v, b) ==
    /\ b \in ValidBlocks
    /\ \/ v = 0
       \/ Power(ReportingAtMost(h, v, -1)) >= Quorum
       \/ \E w \in 0..(v - 1) :
             Reported(h, v, w, b) /\ Power(ReportingAtMost(h, v, w)) >= Quorum

\* Height h is still open: some honest replica has not decided it.
Open(h) == \E r \in Honest : HeightOf(r) <= h

-----------------------------------------------------------------------------
Init ==
    /\ chain = [r \in Honest |-> <<>>]
    /\ view = [r \in Honest |-> 0]
    /\ proposalsAll = {}
    /\ preparesAll = {}
    /\ commitsAll = {}
    /\ viewChangesAll = {}

(***************************************************************************)
(* The steps of an honest replica r: those of PBFT.tla (see the comments   *)
(* there), over the full message sets.                                     *)
(***************************************************************************)

\* Pre-prepare (paper 000, steps 2-4): the primary of view 0 proposes a valid block.
PrePrepare(r, b) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ view[r] = 0
    /\ r = Primary(h, 0)
    /\ ~ SentIn(proposalsAll, r, h, 0)
    /\ ~ SentIn(preparesAll, r, h, 0)
    /\ b \in ValidBlocks
    /\ proposalsAll' = proposalsAll \cup {Msg(h, 0, b, r)}
    /\ preparesAll' = preparesAll \cup {Msg(h, 0, b, r)}
    /\ UNCHANGED <<chain, view, commitsAll, viewChangesAll>>

\* New view: the primary of view v > 0 proposes a block the new-view rule allows.
NewView(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ v > 0
    /\ r = Primary(h, v)
    /\ ~ SentIn(proposalsAll, r, h, v)
    /\ ~ SentIn(preparesAll, r, h, v)
    /\ SafeBlock(h, v, b)
    /\ proposalsAll' = proposalsAll \cup {Msg(h, v, b, r)}
    /\ preparesAll' = preparesAll \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, commitsAll, viewChangesAll>>

\* Prepare (paper 000, step 4): accept the primary's proposal of a valid, safe block.
Prepare(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ ~ SentIn(preparesAll, r, h, v)
    /\ Proposed(h, v, b)
    /\ SafeBlock(h, v, b)
    /\ preparesAll' = preparesAll \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposalsAll, commitsAll, viewChangesAll>>

\* Commit: a replica that prepared b commits once a quorum prepared b in its view.
Commit(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ Msg(h, v, b, r) \in preparesAll
    /\ ~ SentIn(commitsAll, r, h, v)
    /\ Prepared(h, v, b)
    /\ commitsAll' = commitsAll \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposalsAll, preparesAll, viewChangesAll>>

(***************************************************************************)
(* As in PBFT.tla, once every honest replica has decided height h, the     *)
(* votes and view changes of h are dropped, in the step of the last        *)
(* decision: the honest ones because PBFT.tla drops them then (the mapping *)
(* must give PBFT.tla's state), the Byzantine ones because no honest guard *)
(* reads them again.  The Byzantine steps send nothing more for h (Open).  *)
(***************************************************************************)
ForgetHeight(h) ==
    /\ preparesAll' = {m \in preparesAll : m.h # h}
    /\ commitsAll' = {m \in commitsAll : m.h # h}
    /\ viewChangesAll' = {m \in viewChangesAll : m.h # h}

\* Decide (paper 000, step 5): a quorum committed a valid block b in some view w.
Decide(r, w, b) ==
    LET h == HeightOf(r)
        decided == [chain EXCEPT ![r] = Append(@, b)]
    IN
    /\ Active(r)
    /\ b \in ValidBlocks
    /\ CommitQuorum(h, w, b)
    /\ chain' = decided
    /\ view' = [view EXCEPT ![r] = 0]
    /\ IF \A s \in Honest : Len(decided[s]) >= h
          THEN ForgetHeight(h)
          ELSE UNCHANGED <<preparesAll, commitsAll, viewChangesAll>>
    /\ UNCHANGED proposalsAll

\* View change: move to the next view, reporting the prepared certificate.
\* (PBFT.tla's guard ~stable \/ ViewCannotDecide(r) is TRUE here: stable maps
\* to FALSE, as in every state of PBFT.tla's Spec.)
ViewChange(r) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ view[r] < MaxView
    /\ view' = [view EXCEPT ![r] = @ + 1]
    /\ viewChangesAll' = viewChangesAll \cup
          {[h |-> h, v |-> view[r] + 1, src |-> r, prepared |-> PreparedCertificate(r, h)]}
    /\ UNCHANGED <<chain, proposalsAll, preparesAll, commitsAll>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* The steps of a Byzantine replica r: each sends one message with its own *)
(* id, for a height some honest replica has not decided yet.  Nothing else *)
(* changes: a Byzantine replica has no chain or view that the properties   *)
(* read, and it follows no rule but these.                                 *)
(***************************************************************************)

\* Pre-prepare of a Byzantine primary of view 0: any block, valid or not, and
\* possibly several (equivocation).  It does not count as its prepare: that is
\* a separate message (ByzantinePrepare).
ByzantinePrePrepare(r, h, b) ==
    /\ Open(h)
    /\ r = Primary(h, 0)
    /\ Msg(h, 0, b, r) \notin proposalsAll
    /\ proposalsAll' = proposalsAll \cup {Msg(h, 0, b, r)}
    /\ UNCHANGED <<chain, view, preparesAll, commitsAll, viewChangesAll>>

\* New view of a Byzantine primary of view v > 0: any block, without the
\* new-view rule (honest replicas check SafeBlock themselves), possibly several.
ByzantineNewView(r, h, v, b) ==
    /\ Open(h)
    /\ v > 0
    /\ r = Primary(h, v)
    /\ Msg(h, v, b, r) \notin proposalsAll
    /\ proposalsAll' = proposalsAll \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, preparesAll, commitsAll, viewChangesAll>>

\* A prepare for any block in any view, whether or not it was proposed.
ByzantinePrepare(r, h, v, b) ==
    /\ Open(h)
    /\ Msg(h, v, b, r) \notin preparesAll
    /\ preparesAll' = preparesAll \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposalsAll, commitsAll, viewChangesAll>>

\* A commit for any block in any view, whether or not it was prepared.
ByzantineCommit(r, h, v, b) ==
    /\ Open(h)
    /\ Msg(h, v, b, r) \notin commitsAll
    /\ commitsAll' = commitsAll \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposalsAll, preparesAll, viewChangesAll>>

\* The prepared certificates a view change may name: none, or one.
ClaimableCertificates == {{}} \cup {{c} : c \in Certificate}

\* A view change to any view v > 0 (several per view, whatever view r is in),
\* hiding what r prepared or showing a prepared certificate that exists: the
\* block was proposed and prepared by a quorum in an earlier view w.
ByzantineViewChange(r, h, v, c) ==
    /\ Open(h)
    /\ v > 0
    /\ \A cert \in c : cert.view < v /\ Prepared(h, cert.view, cert.block)
    /\ [h |-> h, v |-> v, src |-> r, prepared |-> c] \notin viewChangesAll
    /\ viewChangesAll' = viewChangesAll \cup {[h |-> h, v |-> v, src |-> r, prepared |-> c]}
    /\ UNCHANGED <<chain, view, proposalsAll, preparesAll, commitsAll>>

-----------------------------------------------------------------------------
HonestStep(r) ==
    \/ \E b \in Blocks :
          \/ PrePrepare(r, b)
          \/ NewView(r, b)
          \/ Prepare(r, b)
          \/ Commit(r, b)
    \/ \E w \in Views, b \in Blocks : Decide(r, w, b)
    \/ ViewChange(r)

ByzantineStep(r) ==
    \/ \E h \in Heights, b \in Blocks :
          \/ ByzantinePrePrepare(r, h, b)
          \/ \E v \in Views :
                \/ ByzantineNewView(r, h, v, b)
                \/ ByzantinePrepare(r, h, v, b)
                \/ ByzantineCommit(r, h, v, b)
    \/ \E h \in Heights, v \in Views, c \in ClaimableCertificates :
          ByzantineViewChange(r, h, v, c)

Next ==
    \/ \E r \in Honest : HonestStep(r)
    \/ \E r \in Byzantine : ByzantineStep(r)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(***************************************************************************)
(* Properties.                                                             *)
(***************************************************************************)

\* Agreement, as in PBFT.tla: no two honest replicas decide different blocks at one height.
Agreement ==
    \A r, s \in Honest :
        \A h \in 1..MaxHeight :
            (h <= Len(chain[r]) /\ h <= Len(chain[s])) => chain[r][h] = chain[s][h]

\* No view change, honest or Byzantine, shows a certificate that was never prepared.
NoForgedCertificate ==
    \A m \in viewChangesAll : \A c \in m.prepared : Prepared(m.h, c.view, c.block)

(***************************************************************************)
(* The refinement mapping: PBFT.tla's message sets are the honest          *)
(* replicas' messages; the Byzantine messages map to nothing.  chain and   *)
(* view, and the constants, map to themselves.  PBFT.tla's stable is FALSE *)
(* in every state of its Spec (only LiveSpec's Stabilise sets it), and     *)
(* this module has no view-change timer to stabilise: it maps to FALSE.    *)
(***************************************************************************)
Abstract == INSTANCE PBFT WITH
    chain <- chain,
    view <- view,
    proposals <- {m \in proposalsAll : m.src \in Honest},
    prepares <- {m \in preparesAll : m.src \in Honest},
    commits <- {m \in commitsAll : m.src \in Honest},
    viewChanges <- {m \in viewChangesAll : m.src \in Honest},
    stable <- FALSE

(***************************************************************************)
(* Every behaviour of this spec is, under the mapping, a behaviour of      *)
(* PBFT.tla.  RefinesPBFT is Abstract!Spec, which is                       *)
(* Abstract!Init /\ [][Abstract!Next]_Abstract!vars, with the two cases of *)
(* the step written in the other order: [A]_v means A \/ UNCHANGED v.      *)
(* TLC tries the cases from left to right, and most steps of this spec are *)
(* Byzantine sends, which PBFT.tla sees as stuttering steps; tried first,  *)
(* they make the check three times faster.                                 *)
(***************************************************************************)
RefinesPBFT ==
    Abstract!Init /\ [][UNCHANGED Abstract!vars \/ Abstract!Next]_Abstract!vars

THEOREM Spec => RefinesPBFT
==============================================================================
