-------------------------------- MODULE PBFT --------------------------------
(***************************************************************************)
(* PBFT over the heights of the ChargeChain ledger.                        *)
(*                                                                         *)
(* The billing (accounting) nodes of the operators decide one block per    *)
(* height (paper 000, steps 2-5; paper 004, section 3.2).  At each height  *)
(* the replicas run views 0, 1, ...; the proposer of view v at height h is *)
(* the company the leader schedule names, Proposer(h, v) of Leaders.tla,   *)
(* acting through its master node Master[company].  A view runs the three  *)
(* PBFT phases pre-prepare, prepare and commit.  A replica that stops      *)
(* waiting moves to the next view with a view-change message; the next     *)
(* view's proposer opens that view with a new-view message (a proposal     *)
(* justified by a quorum of view changes).  A replica that decides a       *)
(* height appends the block to its chain and starts the next height in     *)
(* view 0.                                                                 *)
(*                                                                         *)
(* A block is a value of ValidBlocks (every transaction in it is valid) or *)
(* of InvalidBlocks (at least one is not).  Paper 000, step 4: billing     *)
(* nodes accept a block only when all its transactions are valid, so an    *)
(* honest replica never proposes, prepares or decides an invalid block.    *)
(*                                                                         *)
(* Messages are four sets of records that only grow while their height is  *)
(* open: a message, once sent, can be received by any replica at any       *)
(* later time.  A step that "receives" messages is a step whose guard      *)
(* reads these sets; a message that is delayed or lost for a replica is a  *)
(* step that replica has not (yet) taken.                                  *)
(*                                                                         *)
(* Fault model.  The replicas in the set Byzantine may behave arbitrarily: *)
(* a Byzantine replica can send any message that carries its own id:       *)
(* pre-prepares of any block of the model when it is the proposer          *)
(* (several blocks: equivocation), prepares and commits for any blocks,    *)
(* view changes that hide what it prepared or show any prepared            *)
(* certificate that really exists; it may send them at any time or never.  *)
(* It cannot forge a message of another replica, nor a prepared            *)
(* certificate (a quorum of prepares it did not see).                      *)
(*                                                                         *)
(* The spec does not keep the Byzantine messages in the state.  It counts  *)
(* every Byzantine replica as having sent every such message already: in   *)
(* Voters, Proposed, ReportingAtMost and Reported below.  This loses no    *)
(* behaviour of the honest replicas: every honest guard is monotone in the *)
(* messages, so whatever a Byzantine strategy lets an honest replica do,   *)
(* "all messages, now" lets it do too; and every honest step this allows   *)
(* is one some Byzantine strategy allows (send exactly the messages the    *)
(* step reads, just before it).  PBFTByzantine.tla keeps the Byzantine     *)
(* messages as variables, sent one at a time by Byzantine steps, and maps  *)
(* to this spec by dropping them; TLC checks that it refines this spec     *)
(* for one height and views 0..1 (models pbft-byzantine-refinement and     *)
(* pbft-byzantine-refinement-full, see docs/consensus.md).  It needs about *)
(* fifty times the states of this spec for that height, which is why this  *)
(* spec counts the Byzantine messages as already sent.  Silence matters    *)
(* for liveness only; the replicas in Crashed send nothing at all.         *)
(*                                                                         *)
(* Several physical nodes may stand behind one replica: VotingNodes[r] is  *)
(* the set of nodes whose votes r casts, all alike; quorums count nodes.   *)
(* The standard deployment has VotingNodes[r] = {r}.  The model            *)
(* tianjin-one-operator lets the nodes of each organisation act as one     *)
(* replica: every behaviour of that model is a behaviour of the model with *)
(* one replica per node, so a violation it finds is a real one.            *)
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

Blocks == ValidBlocks \cup InvalidBlocks
Heights == 1..MaxHeight
Views == 0..MaxView
Honest == Replicas \ (Byzantine \cup Crashed)

\* The physical nodes, their number, and the voting power of a set of replicas.
Nodes == UNION {VotingNodes[r] : r \in Replicas}
NodeCount == Cardinality(Nodes)
Power(S) == Cardinality(UNION {VotingNodes[r] : r \in S})

(***************************************************************************)
(* The quorum: the fewest nodes such that any two quorums share more than  *)
(* F nodes, so at least one honest node.  With NodeCount >= 3F + 1 the     *)
(* NodeCount - F nodes that are not faulty still make a quorum.  For       *)
(* NodeCount = 3F + 1 it is the textbook 2F + 1; for the 15 Tianjin nodes  *)
(* and F = 4 it is 10, not 2F + 1 = 9.                                     *)
(***************************************************************************)
Quorum == (NodeCount + F) \div 2 + 1

\* The replica that proposes block h in view v.
Primary(h, v) == Master[Sched!Proposer(h, v)]

ASSUME ModelIsWellFormed ==
    /\ Master \in [Sched!CompanySet -> Replicas]
    /\ \A r \in Replicas : VotingNodes[r] # {}
    /\ \A r, s \in Replicas : r # s => VotingNodes[r] \cap VotingNodes[s] = {}
    /\ Byzantine \subseteq Replicas /\ Crashed \subseteq Replicas
    /\ F \in Nat /\ NodeCount >= 3 * F + 1
    /\ MaxHeight \in Nat \ {0} /\ MaxView \in Nat
    /\ ValidBlocks # {} /\ ValidBlocks \cap InvalidBlocks = {}

(***************************************************************************)
(* The faulty nodes alone never make a quorum: if they did, no protocol    *)
(* could stop them.  Every model here satisfies this, including the ones   *)
(* with more than F faulty nodes.                                          *)
(***************************************************************************)
ASSUME ByzantineAloneAreNoQuorum == Power(Byzantine) < Quorum

\* The hypothesis of Agreement and Termination: at most F faulty nodes.  The
\* models expected to hold check it as an invariant; the ones that show the
\* bound is needed break it.
FaultsWithinBound == Power(Byzantine \cup Crashed) <= F

-----------------------------------------------------------------------------
(***************************************************************************)
(* Messages.  Pre-prepares (view 0) and new views (view > 0) are both      *)
(* proposals; prepares and commits are votes; all three are Vote records.  *)
(* A view change to view v carries the sender's prepared certificate for   *)
(* the height: {} if it prepared nothing, else the highest view in which   *)
(* it prepared a block, and that block.  Honest replicas only ever send    *)
(* votes for valid blocks (TypeOK).                                        *)
(***************************************************************************)
Vote == [h : Heights, v : Views, b : ValidBlocks, src : Honest]
Certificate == [view : Views, block : ValidBlocks]
ViewChangeMsg == [h : Heights, v : Views, src : Honest, prepared : SUBSET Certificate]

VARIABLES
    chain,        \* chain[r]: the blocks honest replica r decided; height i at chain[r][i]
    view,         \* view[r]: the view honest replica r is in at its current height
    proposals,    \* the honest replicas' pre-prepare and new-view messages (Vote records)
    prepares,     \* the honest replicas' prepare messages (Vote records)
    commits,      \* the honest replicas' commit messages (Vote records)
    viewChanges,  \* the honest replicas' view-change messages (ViewChangeMsg records)
    stable        \* the network has stabilised: no more premature view changes (LiveSpec only)

vars == <<chain, view, proposals, prepares, commits, viewChanges, stable>>

TypeOK ==
    /\ DOMAIN chain = Honest
    /\ \A r \in Honest : \E k \in 0..MaxHeight : chain[r] \in [1..k -> ValidBlocks]
    /\ view \in [Honest -> Views]
    /\ proposals \subseteq Vote
    /\ prepares \subseteq Vote
    /\ commits \subseteq Vote
    /\ viewChanges \subseteq ViewChangeMsg
    /\ \A m \in viewChanges : Cardinality(m.prepared) <= 1
    /\ stable \in BOOLEAN

-----------------------------------------------------------------------------
(* Derived facts about a replica and the messages sent so far.             *)

\* The height honest replica r works on (one above its last decided block).
HeightOf(r) == Len(chain[r]) + 1

\* Replica r still has a height of the model to decide.
Active(r) == HeightOf(r) <= MaxHeight

\* The vote of replica r for block b at height h in view v.
Msg(h, v, b, r) == [h |-> h, v |-> v, b |-> b, src |-> r]

\* Replica r already sent a message at height h in view v, in a message set.
SentIn(msgs, r, h, v) == \E m \in msgs : m.src = r /\ m.h = h /\ m.v = v

\* The scheduled proposer of view v proposed block b at height h
\* (a faulty proposer proposes every block: equivocation).
Proposed(h, v, b) ==
    \/ Primary(h, v) \in Byzantine
    \/ Msg(h, v, b, Primary(h, v)) \in proposals

\* The replicas that voted for block b at (h, v) in a set of votes
\* (a faulty replica votes for every block).
Voters(votes, h, v, b) ==
    {m.src : m \in {x \in votes : x.h = h /\ x.v = v /\ x.b = b}} \cup Byzantine

\* Block b is prepared at (h, v): proposed by the primary and prepared by a quorum.
Prepared(h, v, b) == Proposed(h, v, b) /\ Power(Voters(prepares, h, v, b)) >= Quorum

\* A quorum committed block b at (h, v).
CommitQuorum(h, v, b) == Power(Voters(commits, h, v, b)) >= Quorum

\* Honest replica r's prepared certificate at height h: {} or the highest view
\* in which r prepared (an honest replica sends its commit when it prepares).
PreparedCertificate(r, h) ==
    LET mine == {m \in commits : m.src = r /\ m.h = h}
    IN  {[view |-> m.v, block |-> m.b] : m \in {m \in mine : \A o \in mine : o.v <= m.v}}

\* The view changes to view v at height h.
ViewChanges(h, v) == {m \in viewChanges : m.h = h /\ m.v = v}

\* The replicas that sent a view change to (h, v) reporting no prepared
\* certificate above view w (w = -1: reporting none).  A faulty replica may
\* always report none.
ReportingAtMost(h, v, w) ==
    {m.src : m \in {x \in ViewChanges(h, v) : \A c \in x.prepared : c.view <= w}} \cup Byzantine

\* A view change to (h, v) reports block b prepared in view w: an honest one
\* in its message, or a faulty one showing a prepared certificate that exists.
Reported(h, v, w, b) ==
    \/ \E m \in ViewChanges(h, v) : [view |-> w, block |-> b] \in m.prepared
    \/ Byzantine # {} /\ Prepared(h, w, b)

(***************************************************************************)
(* The new-view rule.  A proposal in view v > 0 is justified by a quorum   *)
(* of view changes to (h, v): if one of them reports a prepared            *)
(* certificate, it carries the block of the highest one; if none does, any *)
(* valid block.  SafeBlock(h, v, b) holds if some quorum of the view       *)
(* changes sent so far justifies b.  In view 0 every valid block is safe.  *)
(***************************************************************************)
SafeBlock(h, v, b) ==
    /\ b \in ValidBlocks
    /\ \/ v = 0
       \/ Power(ReportingAtMost(h, v, -1)) >= Quorum
       \/ \E w \in 0..(v - 1) :
             Reported(h, v, w, b) /\ Power(ReportingAtMost(h, v, w)) >= Quorum

-----------------------------------------------------------------------------
(***************************************************************************)
(* The initial state: nothing decided, every honest replica in view 0 of   *)
(* height 1, no message sent, the network not yet stable.                  *)
(***************************************************************************)
Init ==
    /\ chain = [r \in Honest |-> <<>>]
    /\ view = [r \in Honest |-> 0]
    /\ proposals = {}
    /\ prepares = {}
    /\ commits = {}
    /\ viewChanges = {}
    /\ stable = FALSE

(***************************************************************************)
(* The steps of an honest replica r.                                       *)
(***************************************************************************)

(***************************************************************************)
(* Pre-prepare (paper 000, steps 2-4; paper 004, section 3.2): in view 0   *)
(* the replica the schedule names collects transactions into a valid       *)
(* block and broadcasts it.  Its pre-prepare also counts as its prepare.   *)
(***************************************************************************)
PrePrepare(r, b) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ view[r] = 0
    /\ r = Primary(h, 0)
    /\ ~ SentIn(proposals, r, h, 0)
    /\ ~ SentIn(prepares, r, h, 0)
    /\ b \in ValidBlocks
    /\ proposals' = proposals \cup {Msg(h, 0, b, r)}
    /\ prepares' = prepares \cup {Msg(h, 0, b, r)}
    /\ UNCHANGED <<chain, view, commits, viewChanges, stable>>

(***************************************************************************)
(* New view: the proposer of view v > 0, once view changes from a quorum   *)
(* have arrived, proposes a block the new-view rule allows.  The proposal  *)
(* is the new-view message; it also counts as the proposer's prepare.      *)
(***************************************************************************)
NewView(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ v > 0
    /\ r = Primary(h, v)
    /\ ~ SentIn(proposals, r, h, v)
    /\ ~ SentIn(prepares, r, h, v)
    /\ SafeBlock(h, v, b)
    /\ proposals' = proposals \cup {Msg(h, v, b, r)}
    /\ prepares' = prepares \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, commits, viewChanges, stable>>

(***************************************************************************)
(* Prepare: a replica accepts the proposal of its current view's proposer  *)
(* if every transaction in the block is valid (paper 000, step 4) and, in  *)
(* a view > 0, if the new-view rule allows the block; it broadcasts a      *)
(* prepare.  It prepares at most one block per view.                       *)
(***************************************************************************)
Prepare(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ ~ SentIn(prepares, r, h, v)
    /\ Proposed(h, v, b)
    /\ SafeBlock(h, v, b)
    /\ prepares' = prepares \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposals, commits, viewChanges, stable>>

(***************************************************************************)
(* Commit: a replica that prepared block b is prepared once a quorum       *)
(* prepared b in its view; it broadcasts a commit (at most one per view).  *)
(* Its latest commit is its prepared certificate for view changes.         *)
(***************************************************************************)
Commit(r, b) ==
    LET h == HeightOf(r)
        v == view[r]
    IN
    /\ Active(r)
    /\ Msg(h, v, b, r) \in prepares
    /\ ~ SentIn(commits, r, h, v)
    /\ Prepared(h, v, b)
    /\ commits' = commits \cup {Msg(h, v, b, r)}
    /\ UNCHANGED <<chain, view, proposals, prepares, viewChanges, stable>>

(***************************************************************************)
(* Once every honest replica has decided height h, no honest guard reads   *)
(* the votes and view changes of height h again.  They are dropped, so     *)
(* that the states of the next height do not multiply by the ways height h *)
(* ended.  Proposals are kept: Validity reads them.                        *)
(***************************************************************************)
ForgetHeight(h) ==
    /\ prepares' = {m \in prepares : m.h # h}
    /\ commits' = {m \in commits : m.h # h}
    /\ viewChanges' = {m \in viewChanges : m.h # h}

(***************************************************************************)
(* Decide (paper 000, step 5: the billing nodes express acceptance by BFT; *)
(* step 4: the next block builds on it): once a quorum committed a valid   *)
(* block b at the replica's height in some view w, the replica appends b   *)
(* to its chain and starts the next height in view 0.  Any view w: a       *)
(* replica that fell behind catches up from the commit quorum, which is    *)
(* the certificate of the decision.                                        *)
(***************************************************************************)
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
          ELSE UNCHANGED <<prepares, commits, viewChanges>>
    /\ UNCHANGED <<proposals, stable>>

(***************************************************************************)
(* After the network stabilises, honest replicas' timers are long enough   *)
(* for a view with an honest primary to decide: a replica leaves its view  *)
(* only if the view's primary is not honest, or if another honest replica  *)
(* at its height has already moved to a later view (PBFT's rule that a     *)
(* replica joins a view change it sees others make).                       *)
(***************************************************************************)
ViewCannotDecide(r) ==
    LET h == HeightOf(r) IN
    \/ Primary(h, view[r]) \notin Honest
    \/ \E s \in Honest : HeightOf(s) = h /\ view[s] > view[r]

(***************************************************************************)
(* View change: a replica that stops waiting (its timer expired: the       *)
(* proposer is faulty or slow, or the network is) moves to the next view   *)
(* and broadcasts a view change carrying its prepared certificate.  It     *)
(* sends nothing more in the views it left.  Once the network is stable    *)
(* its timer expires only when the view cannot decide without it moving.   *)
(***************************************************************************)
ViewChange(r) ==
    LET h == HeightOf(r) IN
    /\ Active(r)
    /\ view[r] < MaxView
    /\ ~stable \/ ViewCannotDecide(r)
    /\ view' = [view EXCEPT ![r] = @ + 1]
    /\ viewChanges' = viewChanges \cup
          {[h |-> h, v |-> view[r] + 1, src |-> r, prepared |-> PreparedCertificate(r, h)]}
    /\ UNCHANGED <<chain, proposals, prepares, commits, stable>>

-----------------------------------------------------------------------------
HonestStep(r) ==
    \/ \E b \in Blocks :
          \/ PrePrepare(r, b)
          \/ NewView(r, b)
          \/ Prepare(r, b)
          \/ Commit(r, b)
    \/ \E w \in Views, b \in Blocks : Decide(r, w, b)
    \/ ViewChange(r)

\* Byzantine and crashed replicas take no steps of their own: see the fault model.
Next == \E r \in Honest : HonestStep(r)

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Liveness assumption: partial synchrony.  At some moment the network     *)
(* stabilises (the global stabilisation time): from then on no honest      *)
(* replica changes view prematurely (ViewCannotDecide).  Before it, view   *)
(* changes may happen at any moment.  Honest replicas keep working: one    *)
(* that can take a step eventually takes one; messages are never lost      *)
(* (they stay in the sets).  Spec, for safety, never stabilises: stable    *)
(* only restricts view changes, so every safety property of LiveSpec's     *)
(* behaviours is one of Spec's.                                            *)
(***************************************************************************)
Stabilise ==
    /\ ~stable
    /\ stable' = TRUE
    /\ UNCHANGED <<chain, view, proposals, prepares, commits, viewChanges>>

Fairness ==
    /\ WF_vars(Stabilise)
    /\ \A r \in Honest : WF_vars(HonestStep(r))

LiveSpec == Init /\ [][Next \/ Stabilise]_vars /\ Fairness

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

\* Validity tied to the deciding view: when an honest replica decides block b
\* at height h, a quorum has committed b in some view w, and b is the
\* proposal of view w's scheduled proposer.  (Validity alone is weaker: a
\* Byzantine proposer of another view counts as having proposed every block.)
DecidedInViewOfItsProposal(r) ==
    LET h == Len(chain'[r])
        b == chain'[r][h]
    IN  \E w \in Views : CommitQuorum(h, w, b) /\ Proposed(h, w, b)

DecisionStepFollowsProposal ==
    \A r \in Honest : Len(chain'[r]) > Len(chain[r]) => DecidedInViewOfItsProposal(r)

DecisionFollowsProposal == [][DecisionStepFollowsProposal]_vars

\* No honest replica sends two different proposals, prepares or commits for one
\* height and view (the guards ~SentIn(...) of PrePrepare, NewView, Prepare and
\* Commit make it hold; an equivocating honest primary breaks it).
NoHonestEquivocation ==
    \A msgs \in {proposals, prepares, commits} :
        \A m1, m2 \in msgs :
            (m1.src = m2.src /\ m1.h = m2.h /\ m1.v = m2.v) => m1.b = m2.b

\* The core lemma of PBFT's safety: once a quorum committed block b at height h
\* in view w, every honest prepare at height h in a later view is for b.  A
\* violation points at the view change or new-view rule that let another block
\* through, before two replicas decide differently.
CommittedBlockIsLocked ==
    \A h \in Heights, w \in Views, b \in ValidBlocks :
        CommitQuorum(h, w, b) =>
            \A m \in prepares : (m.h = h /\ m.v > w) => m.b = b

\* Termination: every honest replica eventually decides every height of the
\* model.  Under LiveSpec: once the network is stable, the first view that
\* every honest replica reaches and whose primary is honest decides, so the
\* models check it with an honest primary in a view after the faulty ones.
Termination == <>(\A r \in Honest : Len(chain[r]) = MaxHeight)
==============================================================================
