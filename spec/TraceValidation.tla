--------------------------- MODULE TraceValidation ---------------------------
(***************************************************************************)
(* Trace validation: is a run of the replica implementation a behaviour of *)
(* PBFT.tla?                                                               *)
(*                                                                         *)
(* A simulator run of refimpl/consensus emits one record per step of an    *)
(* honest replica (refimpl/tlc/abstract_state.py): the name of the spec    *)
(* action the step is, its parameters, and the six variables of PBFT.tla   *)
(* after the step.  The first record is "Init".  Traces is a sequence of   *)
(* such runs, all with this module's constants.  A behaviour of this       *)
(* module replays one trace t: it starts in the trace's first state and    *)
(* takes step i -> i + 1 only if the record i + 1 names a step of PBFT's   *)
(* Next (the action with the recorded parameters) whose successor state is *)
(* exactly the recorded state.  So the states TLC reaches from trace t are *)
(* its first records up to the first one the spec does not allow.          *)
(*                                                                         *)
(* Replaying a step of Next is not enough: a run can take only steps the   *)
(* spec allows and still be wrong, if its declared constants are wrong or  *)
(* if it counted votes the implicit Byzantine replicas of the spec never   *)
(* sent.  So every record is checked further: the constants respect the    *)
(* fault bound; every state reached satisfies Agreement and Validity, and  *)
(* every decision DecisionFollowsProposal; the voters that a Commit or     *)
(* Decide record says the replica counted make a quorum of votes that were *)
(* really sent (an honest replica's in the state, a Byzantine replica's in *)
(* a "Byzantine" record of the trace, which the trace carries for every    *)
(* message a Byzantine replica sent in its own name); and a Prepare of a   *)
(* Byzantine primary's proposal follows a traced proposal.  A trace that   *)
(* promises progress must end with every honest replica having decided     *)
(* that many heights.                                                      *)
(*                                                                         *)
(* A trace that reaches its last record is accepted; one that stops before *)
(* it is rejected.  Both end in a stuttering step that prints the verdict  *)
(* (Accept, Reject), so one TLC run reports every trace of a batch, not    *)
(* only the first one rejected.  Every state has a successor, so TLC runs  *)
(* with its deadlock check on: a deadlock would be a bug of this module.   *)
(*                                                                         *)
(* PBFT.tla has no implicit steps: ForgetHeight is part of Decide, and     *)
(* Byzantine replicas take no steps of their own.  Every record is         *)
(* therefore exactly one step of Next, or a "Byzantine" record, which      *)
(* changes none of PBFT's variables.                                       *)
(*                                                                         *)
(* refimpl/tlc/traces.py writes a root module per TLC run that defines the *)
(* traces and instantiates this module once per set of constants (runs     *)
(* with different faulty or silent replicas can share one TLC run).        *)
(***************************************************************************)
EXTENDS PBFT, TLC

CONSTANT
    Traces  \* <<[id |-> n, progress |-> k, steps |-> <<[action |-> a, params |-> p, state |-> s], ...>>], ...>>

VARIABLES
    t,              \* the trace being replayed: an index into Traces
    i,              \* the position of the current state in that trace (1: the Init record)
    byzantineSent   \* the messages the trace's "Byzantine" records say were sent so far

traceVars == <<vars, t, i, byzantineSent>>

\* The records of the trace being replayed; Rec(k) is its k-th record.
Steps == Traces[t].steps
Rec(k) == Steps[k]

\* The current state is the recorded state s (stable is FALSE throughout).
IsState(s) ==
    /\ chain = s.chain
    /\ view = s.view
    /\ proposals = s.proposals
    /\ prepares = s.prepares
    /\ commits = s.commits
    /\ viewChanges = s.viewChanges

\* The next state is the recorded state s.
Reaches(s) ==
    /\ chain' = s.chain
    /\ view' = s.view
    /\ proposals' = s.proposals
    /\ prepares' = s.prepares
    /\ commits' = s.commits
    /\ viewChanges' = s.viewChanges

\* The first record is the Init record and its state satisfies PBFT's Init.
InitOK == Rec(1).action = "Init" /\ Init

(***************************************************************************)
(* A "Byzantine" record: Byzantine replica src sent a message in its own   *)
(* name (kind "proposal", "prepare", "commit" or "viewChange"; b is "" for *)
(* a view change).  It changes none of PBFT's variables: the spec already  *)
(* counts the replica as having sent it.                                   *)
(***************************************************************************)
ByzantineMsg(p) == [kind |-> p.kind, h |-> p.h, v |-> p.v, b |-> p.b, src |-> p.src]

ByzantineSend(p) ==
    /\ p.src \in Byzantine
    /\ byzantineSent' = byzantineSent \cup {ByzantineMsg(p)}
    /\ UNCHANGED vars

(***************************************************************************)
(* The step a record names: a Byzantine send, or the action of PBFT's Next *)
(* with the recorded parameters, which must range where Next's quantifiers *)
(* range (r \in Honest, b \in Blocks, w \in Views).  Each action fixes     *)
(* every variable, so it determines the successor state.                   *)
(***************************************************************************)
SpecStep(rec) ==
    LET a == rec.action
        p == rec.params
    IN
    IF a = "Byzantine" THEN ByzantineSend(p)
    ELSE
    /\ a \in {"PrePrepare", "NewView", "Prepare", "Commit", "Decide", "ViewChange"}
    /\ p.r \in Honest
    /\ byzantineSent' = byzantineSent
    /\ CASE a = "PrePrepare" -> p.b \in Blocks /\ PrePrepare(p.r, p.b)
         [] a = "NewView"    -> p.b \in Blocks /\ NewView(p.r, p.b)
         [] a = "Prepare"    -> p.b \in Blocks /\ Prepare(p.r, p.b)
         [] a = "Commit"     -> p.b \in Blocks /\ Commit(p.r, p.b)
         [] a = "Decide"     -> p.w \in Views /\ p.b \in Blocks /\ Decide(p.r, p.w, p.b)
         [] a = "ViewChange" -> ViewChange(p.r)

\* The step, reaching the recorded state.
Replay(rec) == SpecStep(rec) /\ Reaches(rec.state)

(***************************************************************************)
(* Votes really sent.  Replica s sent a vote of this kind for block b at   *)
(* (h, v): an honest replica's is in the state, a Byzantine replica's was  *)
(* traced.  A proposal is also its proposer's prepare.                     *)
(***************************************************************************)
SentVote(kind, h, v, b, s) ==
    IF s \in Honest
    THEN Msg(h, v, b, s) \in (IF kind = "prepare" THEN prepares ELSE commits)
    ELSE \E k \in (IF kind = "prepare" THEN {"prepare", "proposal"} ELSE {"commit"}) :
            [kind |-> k, h |-> h, v |-> v, b |-> b, src |-> s] \in byzantineSent

\* The voters a replica says it counted are replicas whose votes were sent,
\* and they make a quorum: the spec's implicit Byzantine votes do not count.
CountedQuorum(kind, h, v, b, voters) ==
    /\ voters \subseteq Replicas
    /\ Power(voters) >= Quorum
    /\ \A s \in voters : SentVote(kind, h, v, b, s)

\* A Commit counts prepares of its view; a Decide counts commits of view w.
VotesReallySent(rec) ==
    LET p == rec.params IN
    CASE rec.action = "Commit" ->
            CountedQuorum("prepare", HeightOf(p.r), view[p.r], p.b, p.voters)
      [] rec.action = "Decide" ->
            CountedQuorum("commit", HeightOf(p.r), p.w, p.b, p.voters)
      [] OTHER -> TRUE

\* An honest replica prepares a Byzantine primary's block only after the
\* primary really proposed it.
ProposalReallySent(rec) ==
    LET p == rec.params IN
    (rec.action = "Prepare" /\ Primary(HeightOf(p.r), view[p.r]) \in Byzantine) =>
        [kind |-> "proposal", h |-> HeightOf(p.r), v |-> view[p.r], b |-> p.b,
         src |-> Primary(HeightOf(p.r), view[p.r])] \in byzantineSent

\* The state reached satisfies the safety properties, and a decision follows
\* the proposal of its view.
SafeStep == Agreement' /\ Validity' /\ DecisionStepFollowsProposal

(***************************************************************************)
(* Replay the next record: it is a step of Next (or a Byzantine send)      *)
(* reaching the recorded state, what it read was really sent, and the      *)
(* state it reaches is safe.  The constants respect the fault bound.       *)
(***************************************************************************)
TraceNext ==
    LET next == Rec(i + 1) IN
    /\ i < Len(Steps)
    /\ i = 1 => InitOK /\ FaultsWithinBound
    /\ Replay(next)
    /\ VotesReallySent(next)
    /\ ProposalReallySent(next)
    /\ SafeStep
    /\ t' = t
    /\ i' = i + 1

TraceInit ==
    /\ t \in DOMAIN Traces
    /\ i = 1
    /\ IsState(Traces[t].steps[1].state)
    /\ stable = FALSE
    /\ byzantineSent = {}

\* Every honest replica decided the heights the trace promised.
Progressed == \A r \in Honest : Len(chain[r]) >= Traces[t].progress

\* The whole trace was replayed, and it kept its promise of progress.
Accepted ==
    /\ i = Len(Steps)
    /\ i > 1 \/ (InitOK /\ FaultsWithinBound)
    /\ Progressed

(***************************************************************************)
(* Why a trace stops at position i, the first check that fails: its first  *)
(* state is not Init ("Init"); the constants break the fault bound ("fault *)
(* bound"); it ended before the promised decisions ("progress"); the next  *)
(* record is a Byzantine send in another replica's name ("forged"), is not *)
(* enabled with its parameters ("guard"), or is but leads to another state *)
(* ("state"); the voters it counted are not a quorum of votes really sent  *)
(* ("voters"); it prepares a Byzantine proposal never sent ("unsent"); or  *)
(* the state it reaches breaks Agreement or Validity ("Agreement",         *)
(* "Validity").                                                            *)
(***************************************************************************)
Reason ==
    LET next == Rec(i + 1) IN
    IF i = 1 /\ ~InitOK THEN "Init"
    ELSE IF ~FaultsWithinBound THEN "fault bound"
    ELSE IF i = Len(Steps) THEN "progress"
    ELSE IF next.action = "Byzantine" /\ next.params.src \notin Byzantine THEN "forged"
    ELSE IF ~ENABLED SpecStep(next) THEN "guard"
    ELSE IF ~ENABLED Replay(next) THEN "state"
    ELSE IF ~VotesReallySent(next) THEN "voters"
    ELSE IF ~ProposalReallySent(next) THEN "unsent"
    ELSE IF ~ENABLED (Replay(next) /\ Agreement') THEN "Agreement"
    ELSE "Validity"

\* The verdicts, printed as <<"accepted", id, length>> and
\* <<"rejected", id, i, reason>> (i: the last record the checks allowed).
Accept ==
    /\ Accepted
    /\ PrintT(<<"accepted", Traces[t].id, i>>)
    /\ UNCHANGED traceVars

Reject ==
    /\ ~Accepted
    /\ ~ENABLED TraceNext
    /\ PrintT(<<"rejected", Traces[t].id, i, Reason>>)
    /\ UNCHANGED traceVars

TraceStep == TraceNext \/ Accept \/ Reject

TraceSpec == TraceInit /\ [][TraceStep]_traceVars
==============================================================================
