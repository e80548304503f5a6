//! Model-based property test: random sequences of `add_callback`/`add_errback`/`add_both` (with
//! steps that succeed, fail, or return fired or unfired Deferreds), firing, firing the inner
//! Deferreds, `pause`/`unpause` and `cancel`, run against both the crate and a small pure model
//! of Twisted's `Deferred` semantics; every observable must agree after every operation.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use tokio_twisted::defer::{
    AlreadyCalledError, CancelledError, Deferred, NotPausedError, Resolver, fail, succeed,
};
use tokio_twisted::failure::Failure;

/// A failure in the model: a numbered error, or a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelErr {
    Code(u8),
    Cancelled,
}

#[derive(Debug, thiserror::Error)]
#[error("code {0}")]
struct Code(u8);

type Res = Result<i64, ModelErr>;

fn from_failure(f: &Failure) -> ModelErr {
    if f.check::<CancelledError>() {
        ModelErr::Cancelled
    } else {
        ModelErr::Code(f.downcast_ref::<Code>().expect("only model errors flow").0)
    }
}

/// What a step's function does when it runs.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// Success: the value plus this; from the failure path: this value.
    Map(i64),
    /// Fail with this code.
    Fail(u8),
    /// Return `succeed(x)`.
    Ready(i64),
    /// Return a Deferred already fired with this result.
    Fired(Result<i64, u8>),
    /// Return a new unfired Deferred, to be fired by `FireInner`.
    Unfired,
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Callback,
    Errback,
    Both,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Add(Side, Action),
    Fire(Result<i64, u8>),
    FireInner(usize, Result<i64, u8>),
    Pause,
    Unpause,
    Cancel,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (-5_i64..5).prop_map(Action::Map),
        2 => (0_u8..4).prop_map(Action::Fail),
        1 => (-5_i64..5).prop_map(Action::Ready),
        1 => prop_oneof![(-5_i64..5).prop_map(Ok), (0_u8..4).prop_map(Err)].prop_map(Action::Fired),
        2 => Just(Action::Unfired),
    ]
}

fn fire_value() -> impl Strategy<Value = Result<i64, u8>> {
    prop_oneof![3 => (-5_i64..5).prop_map(Ok), 1 => (0_u8..4).prop_map(Err)]
}

fn op() -> impl Strategy<Value = Op> {
    let side = prop_oneof![Just(Side::Callback), Just(Side::Errback), Just(Side::Both)];
    prop_oneof![
        6 => (side, action()).prop_map(|(s, a)| Op::Add(s, a)),
        2 => fire_value().prop_map(Op::Fire),
        3 => (0_usize..8, fire_value()).prop_map(|(i, v)| Op::FireInner(i, v)),
        1 => Just(Op::Pause),
        1 => Just(Op::Unpause),
        1 => Just(Op::Cancel),
    ]
}

/// What every operation can be observed to do.
#[derive(Debug, Clone, PartialEq)]
struct Observed {
    /// The answer of a fire/unpause operation: `Ok`, `AlreadyCalled` or `NotPaused`.
    answer: Option<&'static str>,
    /// Step ids whose function ran, in order, since the start.
    ran: Vec<usize>,
    called: bool,
    paused: bool,
    waiting: bool,
    pending: usize,
    result: Option<Res>,
}

// --- The model ------------------------------------------------------------------------------

/// One inner Deferred of the model: it never gets callbacks of its own.
#[derive(Debug, Default)]
struct ModelInner {
    called: bool,
    suppress: bool,
    /// Its result until the outer Deferred takes it.
    result: Option<Res>,
}

#[derive(Debug, Default)]
struct Model {
    called: bool,
    suppress: bool,
    paused: u32,
    result: Option<Res>,
    waiting_on: Option<usize>,
    chain: VecDeque<(usize, Side, Action)>,
    inners: Vec<ModelInner>,
    ran: Vec<usize>,
}

impl Model {
    /// Twisted's `_runCallbacks`, for a Deferred whose inner Deferreds have no callbacks.
    fn run(&mut self) {
        if !self.called || self.paused > 0 || self.waiting_on.is_some() {
            return;
        }
        while let Some((id, side, action)) = self.chain.pop_front() {
            let input = self.result.take().expect("a fired Deferred has a result");
            let runs = matches!(
                (side, input),
                (Side::Both, _) | (Side::Callback, Ok(_)) | (Side::Errback, Err(_))
            );
            if !runs {
                self.result = Some(input);
                continue;
            }
            self.ran.push(id);
            let out = match action {
                Action::Map(delta) => Ok(match input {
                    Ok(v) => v.wrapping_add(delta),
                    Err(_) => delta,
                }),
                Action::Fail(c) => Err(ModelErr::Code(c)),
                Action::Ready(x) => Ok(x),
                Action::Fired(r) => r.map_err(ModelErr::Code),
                Action::Unfired => {
                    self.inners.push(ModelInner::default());
                    self.waiting_on = Some(self.inners.len() - 1);
                    return;
                }
            };
            self.result = Some(out);
        }
    }

    fn fire(&mut self, r: Res) -> &'static str {
        if self.called {
            if self.suppress {
                self.suppress = false;
                return "Ok";
            }
            return "AlreadyCalled";
        }
        self.called = true;
        self.result = Some(r);
        self.run();
        "Ok"
    }

    fn fire_inner(&mut self, i: usize, r: Res) -> &'static str {
        let inner = &mut self.inners[i];
        if inner.called {
            if inner.suppress {
                inner.suppress = false;
                return "Ok";
            }
            return "AlreadyCalled";
        }
        inner.called = true;
        inner.result = Some(r);
        self.hand_over(i);
        "Ok"
    }

    /// An inner Deferred that fired gives its result to the outer one waiting on it.
    fn hand_over(&mut self, i: usize) {
        if self.waiting_on == Some(i) {
            self.result = self.inners[i].result.take();
            self.waiting_on = None;
            self.run();
        }
    }

    fn cancel(&mut self) {
        if !self.called {
            self.suppress = true;
            self.fire(Err(ModelErr::Cancelled));
        } else if let Some(i) = self.waiting_on {
            // Cancelling a waiting Deferred cancels the one it waits on, which has no
            // canceller.
            let inner = &mut self.inners[i];
            inner.suppress = true;
            inner.called = true;
            inner.result = Some(Err(ModelErr::Cancelled));
            self.hand_over(i);
        }
    }

    fn apply(&mut self, id: usize, op: Op) -> Option<&'static str> {
        match op {
            Op::Add(side, action) => {
                self.chain.push_back((id, side, action));
                self.run();
                None
            }
            Op::Fire(r) => Some(self.fire(r.map_err(ModelErr::Code))),
            Op::FireInner(i, r) => (!self.inners.is_empty())
                .then(|| self.fire_inner(i % self.inners.len(), r.map_err(ModelErr::Code))),
            Op::Pause => {
                self.paused += 1;
                None
            }
            Op::Unpause => Some(if self.paused == 0 {
                "NotPaused"
            } else {
                self.paused -= 1;
                self.run();
                "Ok"
            }),
            Op::Cancel => {
                self.cancel();
                None
            }
        }
    }

    fn observe(&self, answer: Option<&'static str>) -> Observed {
        let settled = self.called && self.waiting_on.is_none() && self.chain.is_empty();
        Observed {
            answer,
            ran: self.ran.clone(),
            called: self.called,
            paused: self.paused > 0 || self.waiting_on.is_some(),
            waiting: self.waiting_on.is_some(),
            pending: self.chain.len(),
            result: if settled { self.result } else { None },
        }
    }
}

// --- The crate, driven the same way ---------------------------------------------------------

struct Real {
    d: Option<Deferred<i64>>,
    r: Resolver<i64>,
    inners: Arc<Mutex<Vec<Resolver<i64>>>>,
    ran: Arc<Mutex<Vec<usize>>>,
}

fn answer(r: Result<(), AlreadyCalledError>) -> &'static str {
    match r {
        Ok(()) => "Ok",
        Err(AlreadyCalledError) => "AlreadyCalled",
    }
}

impl Real {
    fn new() -> Self {
        let (d, r) = Deferred::new();
        Real {
            d: Some(d),
            r,
            inners: Arc::new(Mutex::new(Vec::new())),
            ran: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn step(&self, id: usize, action: Action) -> impl FnOnce(Res) -> Deferred<i64> + Send + 'static {
        let (ran, inners) = (Arc::clone(&self.ran), Arc::clone(&self.inners));
        move |input: Res| {
            ran.lock().unwrap().push(id);
            match action {
                Action::Map(delta) => succeed(match input {
                    Ok(v) => v.wrapping_add(delta),
                    Err(_) => delta,
                }),
                Action::Fail(c) => fail(Code(c)),
                Action::Ready(x) => succeed(x),
                Action::Fired(r) => {
                    let (d, res) = Deferred::new();
                    res.resolve(r.map_err(|c| Failure::new(Code(c)))).unwrap();
                    d
                }
                Action::Unfired => {
                    let (d, res) = Deferred::new();
                    inners.lock().unwrap().push(res);
                    d
                }
            }
        }
    }

    fn apply(&mut self, id: usize, op: Op) -> Option<&'static str> {
        match op {
            Op::Add(side, action) => {
                let step = self.step(id, action);
                let d = self.d.take().unwrap();
                self.d = Some(match side {
                    Side::Callback => d.add_callback(move |v| step(Ok(v))),
                    Side::Errback => d.add_errback(move |f| step(Err(from_failure(&f)))),
                    Side::Both => {
                        d.add_both(move |r: Result<i64, Failure>| step(r.map_err(|f| from_failure(&f))))
                    }
                });
                None
            }
            Op::Fire(r) => Some(answer(self.r.resolve(r.map_err(|c| Failure::new(Code(c)))))),
            Op::FireInner(i, r) => {
                let inner = {
                    let inners = self.inners.lock().unwrap();
                    (!inners.is_empty()).then(|| inners[i % inners.len()].clone())
                };
                inner.map(|inner| answer(inner.resolve(r.map_err(|c| Failure::new(Code(c))))))
            }
            Op::Pause => {
                self.d.as_mut().unwrap().pause();
                None
            }
            Op::Unpause => Some(match self.d.as_mut().unwrap().unpause() {
                Ok(()) => "Ok",
                Err(NotPausedError) => "NotPaused",
            }),
            Op::Cancel => {
                self.d.as_ref().unwrap().cancel();
                None
            }
        }
    }

    fn observe(&self, answer: Option<&'static str>) -> Observed {
        let d = self.d.as_ref().unwrap();
        Observed {
            answer,
            ran: self.ran.lock().unwrap().clone(),
            called: d.called(),
            paused: d.paused(),
            waiting: d.is_waiting(),
            pending: d.pending_callbacks(),
            result: d.result().map(|r| r.map_err(|f| from_failure(&f))),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The crate and the model agree after every operation of any sequence.
    #[test]
    fn deferred_matches_the_twisted_model(ops in prop::collection::vec(op(), 0..40)) {
        let mut model = Model::default();
        let mut real = Real::new();
        for (id, op) in ops.into_iter().enumerate() {
            let expected = model.apply(id, op);
            let got = real.apply(id, op);
            prop_assert_eq!(model.observe(expected), real.observe(got), "after op #{} {:?}", id, op);
        }
    }
}

/// A hand-picked sequence through every feature, as a readable example of the model.
#[test]
fn model_walkthrough() {
    let ops = [
        Op::Add(Side::Callback, Action::Map(1)),
        Op::Pause,
        Op::Fire(Ok(1)),
        Op::Add(Side::Callback, Action::Unfired),
        Op::Unpause,
        Op::Add(Side::Both, Action::Fail(2)),
        Op::Cancel,
        Op::FireInner(0, Ok(9)),
        Op::FireInner(0, Ok(9)),
        Op::Add(Side::Errback, Action::Map(7)),
        Op::Unpause,
        Op::Fire(Ok(0)),
    ];
    let mut model = Model::default();
    let mut real = Real::new();
    let mut observed = Vec::new();
    for (id, op) in ops.into_iter().enumerate() {
        let expected = model.apply(id, op);
        let got = real.apply(id, op);
        let o = real.observe(got);
        assert_eq!(model.observe(expected), o, "after op #{id} {op:?}");
        observed.push(o);
    }
    let last = observed.last().unwrap();
    assert_eq!(last.ran, [0, 3, 5, 9]);
    assert_eq!(last.result, Some(Ok(7)));
    assert_eq!(
        observed[7].answer,
        Some("Ok"),
        "the fire after cancel is absorbed"
    );
    assert_eq!(observed[8].answer, Some("AlreadyCalled"));
    assert_eq!(observed[10].answer, Some("NotPaused"));
    assert_eq!(last.answer, Some("AlreadyCalled"));
}

// --- Recorded traces of Twisted itself ------------------------------------------------------

/// Twisted 26.10's observations on 400 random sequences, recorded by
/// `tests/data/gen_twisted_traces.py` (which documents the format).
const TWISTED_TRACES: &str = include_str!("data/twisted_deferred_traces.txt");

fn parse_fire(s: &str) -> Result<i64, u8> {
    match s.split_at(1) {
        ("o", n) => Ok(n.parse().unwrap()),
        ("x", k) => Err(k.parse().unwrap()),
        other => panic!("bad outcome {other:?}"),
    }
}

fn parse_op(s: &str) -> Op {
    match s.split_at(1) {
        ("A", rest) => {
            let side = match &rest[..1] {
                "c" => Side::Callback,
                "e" => Side::Errback,
                "b" => Side::Both,
                other => panic!("bad side {other}"),
            };
            let action = match rest[1..].split_at(1) {
                ("m", n) => Action::Map(n.parse().unwrap()),
                ("f", k) => Action::Fail(k.parse().unwrap()),
                ("r", n) => Action::Ready(n.parse().unwrap()),
                ("o", n) => Action::Fired(Ok(n.parse().unwrap())),
                ("x", k) => Action::Fired(Err(k.parse().unwrap())),
                ("u", "") => Action::Unfired,
                other => panic!("bad action {other:?}"),
            };
            Op::Add(side, action)
        }
        ("F", spec) => Op::Fire(parse_fire(spec)),
        ("I", rest) => {
            let (i, spec) = rest.split_once(':').unwrap();
            Op::FireInner(i.parse().unwrap(), parse_fire(spec))
        }
        ("P", "") => Op::Pause,
        ("U", "") => Op::Unpause,
        ("C", "") => Op::Cancel,
        other => panic!("bad op {other:?}"),
    }
}

/// An observation in the recorded format.
fn format_observed(o: &Observed) -> String {
    let answer = match o.answer {
        None => "-",
        Some("Ok") => "Ok",
        Some("AlreadyCalled") => "AC",
        Some("NotPaused") => "NP",
        Some(other) => panic!("unexpected answer {other}"),
    };
    let result = match o.result {
        None => "-".to_owned(),
        Some(Ok(v)) => format!("o{v}"),
        Some(Err(ModelErr::Code(k))) => format!("x{k}"),
        Some(Err(ModelErr::Cancelled)) => "xc".to_owned(),
    };
    let ran = if o.ran.is_empty() {
        "_".to_owned()
    } else {
        o.ran
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    };
    format!(
        "{answer} {} {} {} {} {result} {ran}",
        u8::from(o.called),
        u8::from(o.paused),
        u8::from(o.waiting),
        o.pending
    )
}

/// The crate and the model both reproduce, operation by operation, what Twisted itself did on
/// 400 recorded random sequences.
#[test]
fn replays_recorded_twisted_traces() {
    let mut replayed = 0;
    for (n, line) in TWISTED_TRACES.lines().enumerate() {
        let (ops, observations) = line.split_once(" | ").expect("ops | observations");
        let ops: Vec<Op> = ops.split(' ').map(parse_op).collect();
        let expected: Vec<&str> = observations.split(" / ").collect();
        assert_eq!(ops.len(), expected.len(), "line {}", n + 1);
        let mut real = Real::new();
        let mut model = Model::default();
        for (id, (op, want)) in ops.iter().zip(&expected).enumerate() {
            let got = real.apply(id, *op);
            assert_eq!(
                format_observed(&real.observe(got)),
                *want,
                "crate, line {} op #{id} {op:?}",
                n + 1
            );
            let modelled = model.apply(id, *op);
            assert_eq!(
                format_observed(&model.observe(modelled)),
                *want,
                "model, line {} op #{id}",
                n + 1
            );
        }
        replayed += 1;
    }
    assert_eq!(replayed, 400);
}
