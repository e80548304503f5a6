"""Records how Twisted's Deferred behaves on random operation sequences.

Run with a Python that has Twisted installed:

    python3 tests/data/gen_twisted_traces.py > tests/data/twisted_deferred_traces.txt

Each output line is one sequence: the operations, then after `|` the observations made after
each operation. `tests/defer_model.rs` replays every sequence on the crate and compares.

Operations (space separated):
    A<side><action>  add a step; side c=addCallback e=addErrback b=addBoth; action
                     m<n> value+n (from the failure path: n), f<k> fail with code k,
                     r<n> return succeed(n), o<n> return a fired Deferred of n,
                     x<k> return a Deferred failed with code k, u return a new unfired Deferred
    F<o|x><n>        fire the Deferred with a value / a failure code
    I<i>:<o|x><n>    fire inner Deferred number i (modulo how many exist)
    P U C            pause, unpause, cancel
Observations (space separated fields, `/` between operations):
    answer (- Ok AC NP), called, paused, waiting, pending callbacks, result when settled
    (- o<n> x<k> xc), step ids that ran so far joined by `.`
"""

import random
import sys

from twisted.internet.defer import AlreadyCalledError, CancelledError, Deferred, succeed, fail


class Code(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


def rand_action(rng):
    kind = rng.choices("mfroxu", weights=[3, 2, 1, 1, 1, 2])[0]
    if kind in "mro":
        return kind + str(rng.randint(-5, 4))
    if kind in "fx":
        return kind + str(rng.randint(0, 3))
    return "u"


def rand_fire(rng):
    if rng.random() < 0.75:
        return "o" + str(rng.randint(-5, 4))
    return "x" + str(rng.randint(0, 3))


def rand_op(rng):
    kind = rng.choices("AFIPUC", weights=[6, 2, 3, 1, 1, 1])[0]
    if kind == "A":
        return "A" + rng.choice("ceb") + rand_action(rng)
    if kind == "F":
        return "F" + rand_fire(rng)
    if kind == "I":
        return "I%d:%s" % (rng.randint(0, 7), rand_fire(rng))
    return kind


def outcome(spec):
    return ("ok", int(spec[1:])) if spec[0] == "o" else ("err", int(spec[1:]))


def run(ops):
    d = Deferred()
    inners = []
    ran = []
    user_pauses = 0
    observations = []

    def make_step(step_id, action):
        def step(result):
            ran.append(step_id)
            kind, arg = action[0], action[1:]
            if kind == "m":
                n = int(arg)
                return n if hasattr(result, "check") else result + n
            if kind == "f":
                raise Code(int(arg))
            if kind == "r":
                return succeed(int(arg))
            if kind == "o":
                inner = Deferred()
                inner.callback(int(arg))
                return inner
            if kind == "x":
                inner = Deferred()
                inner.errback(Code(int(arg)))
                return inner
            inner = Deferred()
            inners.append(inner)
            return inner

        return step

    def fire(target, spec):
        kind, n = outcome(spec)
        try:
            if kind == "ok":
                target.callback(n)
            else:
                target.errback(Code(n))
            return "Ok"
        except AlreadyCalledError:
            return "AC"

    for step_id, op in enumerate(ops):
        answer = "-"
        if op[0] == "A":
            side, action = op[1], op[2:]
            step = make_step(step_id, action)
            passthru = lambda r: r
            if side == "c":
                d.addCallbacks(step, passthru)
            elif side == "e":
                d.addCallbacks(passthru, step)
            else:
                d.addCallbacks(step, step)
        elif op[0] == "F":
            answer = fire(d, op[1:])
        elif op[0] == "I":
            index, spec = op[1:].split(":")
            if inners:
                answer = fire(inners[int(index) % len(inners)], spec)
        elif op == "P":
            user_pauses += 1
            d.pause()
        elif op == "U":
            if user_pauses == 0:
                answer = "NP"
            else:
                user_pauses -= 1
                d.unpause()
                answer = "Ok"
        elif op == "C":
            d.cancel()
        observations.append(observe(d, answer, ran))
    # Handle a final failure so that Twisted does not log it.
    d.addErrback(lambda f: None)
    for inner in inners:
        inner.addErrback(lambda f: None)
    return observations


def observe(d, answer, ran):
    waiting = d.called and isinstance(d.result, Deferred)
    pending = len(d._callbacks)
    result = "-"
    if d.called and not waiting and pending == 0:
        r = d.result
        if hasattr(r, "check"):
            result = "xc" if r.check(CancelledError) else "x%d" % r.value.code
        else:
            result = "o%d" % r
    return " ".join(
        [
            answer,
            "1" if d.called else "0",
            "1" if d.paused > 0 else "0",
            "1" if waiting else "0",
            str(pending),
            result,
            ".".join(str(i) for i in ran) or "_",
        ]
    )


def main():
    rng = random.Random(20241018)
    for _ in range(400):
        ops = [rand_op(rng) for _ in range(rng.randint(1, 30))]
        print(" ".join(ops) + " | " + " / ".join(run(ops)))


main()
