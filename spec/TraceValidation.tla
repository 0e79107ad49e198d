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
(* A trace that reaches its last record is accepted; one that stops before *)
(* it is rejected.  Both end in a stuttering step that prints the verdict  *)
(* (Accept, Reject), so one TLC run reports every trace of a batch, not    *)
(* only the first one rejected.  Every state has a successor, so TLC runs  *)
(* with its deadlock check on: a deadlock would be a bug of this module.   *)
(*                                                                         *)
(* PBFT.tla has no implicit steps: ForgetHeight is part of Decide, and     *)
(* Byzantine replicas take no steps of their own.  Every record is         *)
(* therefore exactly one step of Next.                                     *)
(*                                                                         *)
(* refimpl/tlc/traces.py writes a root module per TLC run that defines the *)
(* traces and instantiates this module once per set of constants (runs    *)
(* with different faulty or silent replicas can share one TLC run).        *)
(***************************************************************************)
EXTENDS PBFT, TLC

CONSTANT
    Traces  \* <<[id |-> n, steps |-> <<[action |-> a, params |-> p, state |-> s], ...>>], ...>>

VARIABLES
    t,      \* the trace being replayed: an index into Traces
    i       \* the position of the current state in that trace (1: the Init record)

traceVars == <<chain, view, proposals, prepares, commits, viewChanges, stable, t, i>>

\* The records of the trace being replayed; Rec(k) is its k-th record.
Steps == Traces[t].steps
Rec(k) == Steps[k]

\* The current state is the recorded state s.
IsState(s) ==
    /\ chain = s.chain
    /\ view = s.view
    /\ proposals = s.proposals
    /\ prepares = s.prepares
    /\ commits = s.commits
    /\ viewChanges = s.viewChanges

\* The first record is the Init record and its state satisfies PBFT's Init.
InitOK == Rec(1).action = "Init" /\ Init

(***************************************************************************)
(* The step of Next that a record names: the action with the recorded      *)
(* parameters, which must range where Next's quantifiers range (r \in      *)
(* Honest, b \in Blocks, w \in Views).  Each action fixes every variable,  *)
(* so it determines the successor state.                                   *)
(***************************************************************************)
SpecStep(rec) ==
    LET a == rec.action
        p == rec.params
    IN
    /\ a \in {"PrePrepare", "NewView", "Prepare", "Commit", "Decide", "ViewChange"}
    /\ p.r \in Honest
    /\ CASE a = "PrePrepare" -> p.b \in Blocks /\ PrePrepare(p.r, p.b)
         [] a = "NewView"    -> p.b \in Blocks /\ NewView(p.r, p.b)
         [] a = "Prepare"    -> p.b \in Blocks /\ Prepare(p.r, p.b)
         [] a = "Commit"     -> p.b \in Blocks /\ Commit(p.r, p.b)
         [] a = "Decide"     -> p.w \in Views /\ p.b \in Blocks /\ Decide(p.r, p.w, p.b)
         [] a = "ViewChange" -> ViewChange(p.r)

\* Replay the next record: it is a step of Next, and the state it reaches is
\* the recorded one.
TraceNext ==
    LET next == Rec(i + 1) IN
    /\ i < Len(Steps)
    /\ i = 1 => InitOK
    /\ SpecStep(next)
    /\ chain' = next.state.chain
    /\ view' = next.state.view
    /\ proposals' = next.state.proposals
    /\ prepares' = next.state.prepares
    /\ commits' = next.state.commits
    /\ viewChanges' = next.state.viewChanges
    /\ t' = t
    /\ i' = i + 1

TraceInit ==
    /\ t \in DOMAIN Traces
    /\ i = 1
    /\ stable = FALSE
    /\ IsState(Traces[t].steps[1].state)

\* The whole trace was replayed.
Accepted == i = Len(Steps) /\ (i > 1 \/ InitOK)

(***************************************************************************)
(* Why a trace stops at position i: its first state is not Init ("Init"),  *)
(* the next record's action is not enabled with its parameters ("guard"),  *)
(* or it is, but leads to another state than the recorded one ("state").   *)
(***************************************************************************)
Reason ==
    IF i = 1 /\ ~InitOK THEN "Init"
    ELSE IF ENABLED SpecStep(Rec(i + 1)) THEN "state"
    ELSE "guard"

\* The verdicts, printed as <<"accepted", id, length>> and
\* <<"rejected", id, i, reason>> (i: the last record the spec allowed).
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
