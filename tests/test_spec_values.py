"""Reading TLC's output: TLA+ values, framed tool-mode messages, states, figures (no TLC run)."""

from __future__ import annotations

import pytest

from refimpl.tlc import TLCError, parse_value, parse_values
from refimpl.tlc.output import (
    EC,
    Message,
    MessageReader,
    collect_errors,
    collect_printed,
    find_violation,
    parse_figures,
    parse_state,
    read_messages,
)
from refimpl.tlc.runner import _single_property


@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42),
    ("-1", -1),
    ("TRUE", True),
    ("FALSE", False),
    ('"Star Charge"', "Star Charge"),
    (r'"a \"quoted\" \\ back"', 'a "quoted" \\ back'),
    ('"line\\nbreak"', "line\nbreak"),
    ("b1", "b1"),
    ("<<>>", []),
    ("{}", []),
    ("<<1, <<2, 3>>, {}>>", [1, [2, 3], []]),
    ("{<<1, 0, \"PTNE\">>, <<1, 1, \"Smart Grid\">>}", [[1, 0, "PTNE"], [1, 1, "Smart Grid"]]),
    ("[h |-> 1, v |-> 0, b |-> b2, src |-> \"PTNE\"]", {"h": 1, "v": 0, "b": "b2", "src": "PTNE"}),
    ('("PTNE" :> <<b1>> @@ "Star Charge" :> <<>>)', {"PTNE": ["b1"], "Star Charge": []}),
    ("(5 :> 0 @@ 6 :> 1)", {5: 0, 6: 1}),
    ("(<<1, 2>> :> TRUE)", [[[1, 2], True]]),
    ("(1 :> (2 :> 3))", {1: {2: 3}}),
    ("((42))", 42),
    ("1..3", [1, 2, 3]),
    ("{[view |-> 0, block |-> b1]}", [{"view": 0, "block": "b1"}]),
])
def test_values_read_as_plain_data(text, expected):
    assert parse_value(text) == expected


def test_values_may_span_lines_as_tlc_prints_them():
    text = '{ [h |-> 1, v |-> 1, src |-> "PTNE", prepared |-> {}],\n  [h |-> 1, v |-> 1, src |-> "TELD", prepared |-> {}] }'
    assert parse_value(text) == [{"h": 1, "v": 1, "src": "PTNE", "prepared": []},
                                 {"h": 1, "v": 1, "src": "TELD", "prepared": []}]


def test_several_printed_values_in_a_row():
    assert parse_values('<<"a", 1>>\n<< "b",\n   {2, 3} >>\n') == [["a", 1], ["b", [2, 3]]]


@pytest.mark.parametrize("text", ["", "<<1, 2", "[h |-> ]", "{1 2}", "1 2", "(1 :> 2 @@)",
                                  "x..3", "<<1>> extra", "#", '"open'])
def test_text_that_is_not_one_value_is_rejected(text):
    with pytest.raises(TLCError) as caught:
        parse_value(text)
    assert caught.value.code == "E_TLC_VALUE"


OUTPUT = """\
@!@!@STARTMSG 2262:0 @!@!@
TLC2 Version 2.15 of Day Month 20?? (rev: d5b5a7f)
@!@!@ENDMSG 2262 @!@!@
@!@!@STARTMSG 2220:0 @!@!@
Starting SANY...
@!@!@ENDMSG 2220 @!@!@
Parsing file /tmp/x/MCPBFT.tla
@!@!@STARTMSG 2219:0 @!@!@
SANY finished.
@!@!@ENDMSG 2219 @!@!@
<<"companies", <<"PTNE", "TELD">>>>
@!@!@STARTMSG 2110:1 @!@!@
Invariant Agreement is violated.
@!@!@ENDMSG 2110 @!@!@
@!@!@STARTMSG 2121:1 @!@!@
The behavior up to this point is:
@!@!@ENDMSG 2121 @!@!@
@!@!@STARTMSG 2217:4 @!@!@
1: <Initial predicate>
/\\ view = ("PTNE" :> 0 @@ "TELD" :> 0)
/\\ chain = ("PTNE" :> <<>> @@ "TELD" :> <<>>)

@!@!@ENDMSG 2217 @!@!@
@!@!@STARTMSG 2217:4 @!@!@
2: <Decide line 317, col 5 to line 325, col 26 of module PBFT>
/\\ view = ("PTNE" :> 0 @@ "TELD" :> 0)
/\\ chain = ( "PTNE" :> <<b1>> @@
  "TELD" :> <<b2>> )

@!@!@ENDMSG 2217 @!@!@
@!@!@STARTMSG 2199:0 @!@!@
2,314 states generated, 1,207 distinct states found, 541 states left on queue.
@!@!@ENDMSG 2199 @!@!@
@!@!@STARTMSG 2194:0 @!@!@
The depth of the complete state graph search is 8.
@!@!@ENDMSG 2194 @!@!@
@!@!@STARTMSG 2186:0 @!@!@
Finished in 1300ms at (2026-11-21 05:17:22)
@!@!@ENDMSG 2186 @!@!@
"""


def test_messages_of_a_run_are_framed_by_code():
    messages = read_messages(OUTPUT.splitlines(keepends=True))
    codes = [m.code for m in messages]
    assert codes == [2262, 2220, None, 2219, None, 2110, 2121, 2217, 2217, 2199, 2194, 2186]
    assert messages[2].text.strip() == "Parsing file /tmp/x/MCPBFT.tla"
    assert messages[5].severity == 1 and messages[7].severity == 4


def test_output_arriving_in_pieces_gives_the_same_messages():
    whole = read_messages([OUTPUT])
    reader, pieces = MessageReader(), []
    for start in range(0, len(OUTPUT), 7):
        pieces += reader.feed(OUTPUT[start:start + 7])
    pieces += reader.close()
    assert pieces == whole
    assert len(whole) == 12


def test_a_message_may_start_mid_line_and_nest():
    text = ("@!@!@STARTMSG 1000:1 @!@!@\nTLC threw an unexpected exception.\n"
            ": @!@!@STARTMSG 5001:0 @!@!@\nFile not found.\n@!@!@ENDMSG 5001 @!@!@\n"
            "@!@!@ENDMSG 1000 @!@!@\n")
    messages = read_messages(text.splitlines(keepends=True))
    assert [(m.code, m.text) for m in messages] == [
        (5001, "File not found."), (1000, "TLC threw an unexpected exception.\n: ")]
    assert collect_errors(messages) == ["TLC threw an unexpected exception.\n:"]


def test_counterexample_states_violation_and_figures():
    messages = read_messages(OUTPUT.splitlines(keepends=True))
    violation = find_violation(messages)
    assert (violation.kind, violation.name) == ("invariant", "Agreement")
    states = [parse_state(m) for m in messages if m.code == EC.TLC_STATE_PRINT2]
    assert [(s.number, s.action) for s in states] == [(1, "Initial predicate"), (2, "Decide")]
    assert states[1].variables["chain"] == {"PTNE": ["b1"], "TELD": ["b2"]}
    figures = parse_figures(messages)
    assert (figures.states_generated, figures.distinct_states, figures.depth) == (2314, 1207, 8)
    assert collect_printed(messages) == [["companies", ["PTNE", "TELD"]]]
    assert collect_errors(messages) == []


def test_one_variable_states_stuttering_and_unknown_values():
    single = parse_state(Message(2217, 4, "3: <Next line 1, col 1 to line 2, col 2 of module M>\nx = 7"))
    assert (single.number, single.action, single.variables) == (3, "Next", {"x": 7})
    stutter = parse_state(Message(2218, 4, "7: Stuttering"))
    assert stutter.stuttering and stutter.variables == {}
    odd = parse_state(Message(2217, 4, "1: <Initial predicate>\n/\\ s = SUBSET {1}\n/\\ y = 2"))
    assert odd.variables == {"s": "SUBSET {1}", "y": 2}
    loop = parse_state(Message(2122, 4, "1: Back to state: <Next line 5, col 9 to line 5, col 18 of module Loop>"))
    assert (loop.back_to, loop.action, loop.variables) == (1, "Next", {})


def test_progress_reports_give_figures_when_there_is_no_final_count():
    report = Message(2209, 0, "Progress(-1) at 2026-11-21 05:17:51: 35206 states generated, "
                              "-1 distinct states found, -1 states left on queue.")
    figures = parse_figures([report])
    assert (figures.states_generated, figures.distinct_states, figures.depth) == (35206, None, None)


def test_a_false_constant_invariant_is_a_violation_not_an_error():
    messages = [Message(2230, 1, "The invariant of FaultsWithinBound is equal to FALSE"),
                Message(2186, 0, "Finished in 547ms")]
    violation = find_violation(messages)
    assert (violation.kind, violation.name) == ("invariant", "FaultsWithinBound")
    assert collect_errors(messages) == []


def test_temporal_violations_are_attributed_to_the_single_property():
    cfg = "SPECIFICATION LiveSpec\nINVARIANTS\n    TypeOK\nPROPERTY\n    Termination\n"
    assert _single_property(cfg) == "Termination"
    assert _single_property("PROPERTIES A B\n") is None
    assert _single_property("INVARIANT TypeOK\n") is None
