-------------------------------- MODULE PBFT --------------------------------
(***************************************************************************)
(* PBFT over the heights of the ChargeChain ledger.                        *)
(*                                                                         *)
(* The billing (accounting) nodes of the operators decide one block per    *)
(* height (paper 000, steps 2-5; paper 004, section 3.2).  At each height  *)
(* the replicas run views 0, 1, ...; the proposer of view v at height h is *)
(* the company the leader schedule names, Proposer(h, v) of Leaders.tla,   *)
(* acting through its master node Master[company].  A height runs the      *)
(* three PBFT phases pre-prepare, prepare and commit; a replica that stops *)
(* waiting moves to the next view with a view-change message, and the next *)
(* view's proposer starts that view with a new-view message (a            *)
(* pre-prepare justified by a quorum of view changes).                     *)
(*                                                                         *)
(* A block is a value of ValidBlocks (every transaction in it is valid) or *)
(* of InvalidBlocks (at least one is not).  Paper 000, step 4: billing     *)
(* nodes accept a block only when all its transactions are valid, so an    *)
(* honest replica never pre-prepares, prepares or decides an invalid one.  *)
(*                                                                         *)
(* Messages are kept as four sets of records that only grow: a message,   *)
(* once sent, can be received by any replica at any later time.  A step   *)
(* of a replica that "receives" messages is a step whose guard reads       *)
(* these sets.  Losing or delaying messages is modelled by the receiving   *)
(* replica not (yet) taking that step.                                     *)
(*                                                                         *)
(* Fault model.  The replicas in Faulty are Byzantine: they may equivocate *)
(* (pre-prepare several blocks, vote for several blocks, send several      *)
(* view changes), stay silent or vote late, but they cannot forge a        *)
(* message of another replica (every message they add carries their own   *)
(* id) and they cannot forge a prepared certificate (a view change may    *)
(* only claim a block that really gathered a prepare quorum).  To keep the *)
(* state space small, a Byzantine replica sends a message only when some   *)
(* honest replica could act on it (see the Byzantine actions); this loses  *)
(* no behaviour of the honest replicas, because every honest guard is      *)
(* monotone in the message sets and reads a Byzantine message only in the  *)
(* situations the Byzantine guards allow (docs/consensus.md gives the      *)
(* argument).                                                              *)
(*                                                                         *)
(* Several physical nodes may stand behind one replica: VotingNodes[r] is  *)
(* the set of nodes whose votes r casts, all alike.  Quorums count nodes.  *)
(* The standard deployment has VotingNodes[r] = {r}; the model            *)
(* tianjin-one-operator uses it to let the nodes of one organisation act   *)
(* as one (every behaviour of that model is a behaviour of the model with  *)
(* one replica per node).                                                  *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets

CONSTANTS
    Companies,      \* the companies in English-name order (see Leaders.tla)
    Replicas,       \* the replicas (billing nodes) that vote
    Master,         \* Master[c]: the replica that proposes for company c
    VotingNodes,    \* VotingNodes[r]: the physical nodes replica r votes for
    Faulty,         \* the Byzantine replicas of this model
    Silent,         \* the replicas of this model that crashed: they send nothing
    F,              \* the number of faulty nodes the quorums are sized for
    MaxHeight,      \* the model decides heights 1..MaxHeight
    MaxView,        \* and runs views 0..MaxView at each height
    ValidBlocks,    \* block values all of whose transactions are valid
    InvalidBlocks   \* block values with at least one invalid transaction

Sched == INSTANCE Leaders

Blocks == ValidBlocks \cup InvalidBlocks
Heights == 1..MaxHeight
Views == 0..MaxView
Honest == Replicas \ (Faulty \cup Silent)

\* The physical nodes, their number, and the voting power of a set of replicas.
Nodes == UNION {VotingNodes[r] : r \in Replicas}
NodeCount == Cardinality(Nodes)
Power(S) == Cardinality(UNION {VotingNodes[r] : r \in S})

(***************************************************************************)
(* The quorum: the fewest nodes such that two quorums share more than F    *)
(* nodes (so at least one honest node) and the honest nodes alone can form *)
(* one.  For NodeCount = 3F + 1 it is the textbook 2F + 1.                 *)
(***************************************************************************)
Quorum == (NodeCount + F) \div 2 + 1

\* The replica that proposes block h in view v.
Primary(h, v) == Master[Sched!Proposer(h, v)]

ASSUME ModelIsWellFormed ==
    /\ Sched!CompanySet # {}
    /\ Master \in [Sched!CompanySet -> Replicas]
    /\ \A r, s \in Replicas : r # s => VotingNodes[r] \cap VotingNodes[s] = {}
    /\ \A r \in Replicas : VotingNodes[r] # {}
    /\ Faulty \subseteq Replicas
    /\ F \in Nat /\ NodeCount >= 3 * F + 1
    /\ MaxHeight \in Nat \ {0} /\ MaxView \in Nat
    /\ ValidBlocks # {} /\ ValidBlocks \cap InvalidBlocks = {}

(***************************************************************************)
(* The faulty nodes alone never make a quorum.  (If they did, no protocol *)
(* could stop them deciding alone; every model here, including the ones    *)
(* with more than F faulty nodes, satisfies this.)  The Byzantine actions  *)
(* below rely on it: every quorum contains an honest vote.                 *)
(***************************************************************************)
ASSUME FaultyAloneAreNoQuorum == Power(Faulty) < Quorum

-----------------------------------------------------------------------------
(***************************************************************************)
(* Messages.  Pre-prepares (view 0) and new views (view > 0) are both      *)
(* proposals; prepares and commits are votes; a view change to view v     *)
(* carries the sender's prepared certificate for the height: the highest   *)
(* view in which it prepared a block, and that block ({} if none).        *)
(***************************************************************************)
Vote == [h : Heights, v : Views, b : Blocks, src : Replicas]
Certificate == [view : Views, block : Blocks]
ViewChangeMsg == [h : Heights, v : Views, src : Replicas, prepared : SUBSET Certificate]

VARIABLES
    chain,        \* chain[r]: the blocks honest replica r decided, height i at chain[r][i]
    view,         \* view[r]: the view honest replica r is in at its current height
    proposals,    \* pre-prepare and new-view messages, each a Vote record
    prepares,     \* prepare messages, each a Vote record
    commits,      \* commit messages, each a Vote record
    viewChanges   \* view-change messages, each a ViewChangeMsg record

vars == <<chain, view, proposals, prepares, commits, viewChanges>>

TypeOK ==
    /\ DOMAIN chain = Honest
    /\ \A r \in Honest : \E k \in 0..MaxHeight : chain[r] \in [1..k -> Blocks]
    /\ view \in [Honest -> Views]
    /\ proposals \subseteq Vote
    /\ prepares \subseteq Vote
    /\ commits \subseteq Vote
    /\ viewChanges \subseteq ViewChangeMsg
    /\ \A m \in viewChanges : Cardinality(m.prepared) <= 1

-----------------------------------------------------------------------------
(* Derived facts about a replica and the messages sent so far. *)

\* The height honest replica r works on (one above its last decided block).
HeightOf(r) == Len(chain[r]) + 1

\* Replica r still has a height of the model to decide.
Active(r) == HeightOf(r) <= MaxHeight

\* The message with these fields.
Msg(h, v, b, r) == [h |-> h, v |-> v, b |-> b, src |-> r]

\* The scheduled proposer of view v sent a proposal of block b at height h.
Proposed(h, v, b) == Primary(h, v) \in Faulty \/ Msg(h, v, b, Primary(h, v)) \in proposals

\* The replicas that voted for block b at height h, view v, in a vote set.
Voters(votes, h, v, b) == {m.src : m \in {x \in votes : x.h = h /\ x.v = v /\ x.b = b}} \cup Faulty

\* Replica r already sent a message at height h in view v, in a message set.
SentIn(msgs, r, h, v) == \E m \in msgs : m.src = r /\ m.h = h /\ m.v = v

\* Block b is prepared at (h, v): proposed by the primary, and a quorum prepared it.
Prepared(h, v, b) == Proposed(h, v, b) /\ Power(Voters(prepares, h, v, b)) >= Quorum

\* A quorum sent commits for block b at (h, v): b is decided at height h.
CommitQuorum(h, v, b) == Power(Voters(commits, h, v, b)) >= Quorum

\* Honest replica r's prepared certificate at height h: {} or the highest view
\* in which r prepared (an honest replica sends its commit when it prepares).
PreparedCertificate(r, h) ==
    LET mine == {m \in commits : m.src = r /\ m.h = h}
    IN  {[view |-> m.v, block |-> m.b] : m \in {m \in mine : \A o \in mine : o.v <= m.v}}

\* The view changes to view v at height h.
ViewChanges(h, v) == {m \in viewChanges : m.h = h /\ m.v = v}

\* The senders of view changes to (h, v) that report no prepared
\* certificate above view pv (pv = -1: that report none at all).
ReportingAtMost(h, v, pv) ==
    {m.src : m \in {x \in ViewChanges(h, v) : \A c \in x.prepared : c.view <= pv}} \cup Faulty

(***************************************************************************)
(* The blocks a proposal in view v > 0 may carry (PBFT's new-view rule):  *)
(* take a quorum of view changes to (h, v); if one of them reports a       *)
(* prepared certificate, the block of the highest one, else any valid      *)
(* block.  A block is safe if some quorum of the view changes sent so far  *)
(* justifies it.  In view 0 every valid block is safe.                     *)
(***************************************************************************)
ReportedCertificates(h, v) ==
    UNION {m.prepared : m \in ViewChanges(h, v)} \cup
    IF Faulty = {} THEN {}
    ELSE {c \in [view : 0..(v - 1), block : Blocks] : Prepared(h, c.view, c.block)}

SafeBlocks(h, v) ==
    IF v = 0 THEN ValidBlocks
    ELSE {b \in ValidBlocks :
            \/ Power(ReportingAtMost(h, v, -1)) >= Quorum
            \/ \E c \in ReportedCertificates(h, v) :
                    /\ c.block = b
                    /\ Power(ReportingAtMost(h, v, c.view)) >= Quorum}

-----------------------------------------------------------------------------
(***************************************************************************)
(* The initial state: nothing decided, every honest replica in view 0 of  *)
(* height 1, no message sent.                                              *)
(***************************************************************************)
Init ==
    /\ chain = [r \in Honest |-> <<>>]
    /\ view = [r \in Honest |-> 0]
    /\ proposals = {}
    /\ prepares = {}
    /\ commits = {}
    /\ viewChanges = {}

(***************************************************************************)
(* Honest replicas.                                                        *)
(***************************************************************************)

(***************************************************************************)
(* Pre-prepare (paper 000, steps 2-4; 004, section 3.2): in view 0 the     *)
(* replica the schedule names collects transactions into a valid block and *)
(* broadcasts it.  Its pre-prepare also counts as its own prepare.         *)
(***************************************************************************)
PrePrepare(r, b) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ view[r] = 0
    /\ r = Primary(h, 0)
    /\ ~ SentIn(proposals, r, h, 0)
    /\ b \in ValidBlocks
    /\ proposals' = proposals \cup {Msg(h, 0, b, r)}
    /\ prepares' = prepares \cup {Msg(h, 0, b, r)}
    /\ UNCHANGED <<chain, view, commits, viewChanges>>

(***************************************************************************)
(* New view: the proposer of view v > 0, once view changes from a quorum  *)
(* have arrived, proposes a block the new-view rule allows (SafeBlocks).   *)
(* The proposal is the new-view message; it also counts as its prepare.   *)
(***************************************************************************)
NewView(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ v > 0
    /\ r = Primary(h, v)
    /\ ~ SentIn(proposals, r, h, v)
    /\ b \in SafeBlocks(h, v)
    /\ proposals' = proposals \cup {Msg(h, v, b, r)}
    /\ prepares' = prepares \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, commits, viewChanges>>

(***************************************************************************)
(* Prepare: a replica accepts the proposal of its current view's proposer *)
(* if every transaction in the block is valid (paper 000, step 4) and, in  *)
(* a view > 0, if the new-view rule allows the block; it then broadcasts a *)
(* prepare.  It prepares at most one block per view.                       *)
(***************************************************************************)
Prepare(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ Proposed(h, v, b)
    /\ b \in SafeBlocks(h, v)
    /\ ~ SentIn(prepares, r, h, v)
    /\ prepares' = prepares \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposals, commits, viewChanges>>

(***************************************************************************)
(* Commit: a replica that prepared block b is prepared once a quorum      *)
(* prepared b in its view; it then broadcasts a commit (at most one per    *)
(* view).  Its commit is also its prepared certificate for view changes.   *)
(***************************************************************************)
Commit(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ Msg(h, v, b, r) \in prepares
    /\ Prepared(h, v, b)
    /\ ~ SentIn(commits, r, h, v)
    /\ commits' = commits \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposals, prepares, viewChanges>>

(***************************************************************************)
(* Decide (paper 000, step 5: the nodes express acceptance by BFT): once  *)
(* a quorum committed a valid block b at the replica's height in some view *)
(* w, the replica appends b to its chain and starts the next height in     *)
(* view 0.  Any view w: a replica that fell behind catches up from the     *)
(* commit quorum (the quorum is its certificate).                          *)
(***************************************************************************)
Decide(r, w, b) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ b \in ValidBlocks
    /\ CommitQuorum(h, w, b)
    /\ chain' = [chain EXCEPT ![r] = Append(@, b)]
    /\ view' = [view EXCEPT ![r] = 0]
    /\ UNCHANGED <<proposals, prepares, commits, viewChanges>>

(***************************************************************************)
(* View change: a replica that stops waiting (its timer expired: the      *)
(* proposer is faulty or slow, or the network is) moves to the next view   *)
(* and broadcasts a view change carrying its prepared certificate.  It     *)
(* sends nothing more in the views it left.                                *)
(***************************************************************************)
ViewChange(r) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ view[r] < MaxView
    /\ view' = [view EXCEPT ![r] = @ + 1]
    /\ viewChanges' = viewChanges \cup
          {[h |-> h, v |-> view[r] + 1, src |-> r, prepared |-> PreparedCertificate(r, h)]}
    /\ UNCHANGED <<chain, proposals, prepares, commits>>

-----------------------------------------------------------------------------
HonestStep(r) ==
    \/ \E b \in Blocks : PrePrepare(r, b) \/ NewView(r, b) \/ Prepare(r, b) \/ Commit(r, b)
    \/ \E w \in Views, b \in Blocks : Decide(r, w, b)
    \/ ViewChange(r)

Next == \E r \in Honest : HonestStep(r)

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Liveness assumption: a synchronous network and honest replicas that     *)
(* keep working.  Each honest replica that can take a step eventually      *)
(* takes one (messages are never lost: they stay in the sets).  Premature *)
(* view changes are still allowed; faulty replicas get no fairness.        *)
(***************************************************************************)
Fairness == \A r \in Honest : WF_vars(HonestStep(r))

LiveSpec == Spec /\ Fairness

-----------------------------------------------------------------------------
(***************************************************************************)
(* Properties.                                                             *)
(***************************************************************************)

\* Agreement: no two honest replicas decide different blocks at one height.
Agreement ==
    \A r, s \in Honest :
        \A h \in 1..MaxHeight :
            (h <= Len(chain[r]) /\ h <= Len(chain[s])) => chain[r][h] = chain[s][h]

\* Validity: honest replicas decide only valid blocks that the scheduled
\* proposer of some view proposed at that height.
Validity ==
    \A r \in Honest :
        \A h \in 1..Len(chain[r]) :
            /\ chain[r][h] \in ValidBlocks
            /\ \E v \in Views : Proposed(h, v, chain[r][h])

\* Termination: every honest replica eventually decides every height of the model.
Termination == <>(\A r \in Honest : Len(chain[r]) = MaxHeight)
==============================================================================
