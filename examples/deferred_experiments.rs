//! The Deferred experiments of seed 000 (a notebook of Twisted experiments), cell by cell.
//!
//! Reproduces Experiments 1, 2, 3, 3a, 3b, 4, 4a and 4b in the notebook's order and prints
//! what each cell shows there. Cells whose output the notebook does not show print what
//! Twisted 26.10 prints for them. Values are printed the way Python shows them (`True`,
//! `None`, `'N/A'`, `[(True, 0), ...]`), so the two outputs can be read side by side; the
//! Deferred reprs are this crate's `Debug` output (`<Deferred at 0x.. current result: 3>`),
//! which follows Twisted's and also shows how many callbacks are pending.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --example deferred_experiments
//! ```
//!
//! Where Rust differs from Python, a comment at that cell says so. The main difference:
//! a Deferred is not shared by reference. A callback that returns Deferred `b` must own
//! `b`, so after handing `b` over the example inspects it through its [`Resolver`], which
//! is how Rust code keeps a handle on a Deferred it gave away.

use std::fmt::Debug;

use tokio_twisted::defer::{Deferred, DeferredList, Resolver};
use tokio_twisted::failure::Failure;

fn main() {
    experiment_1();
    experiment_2();
    experiment_3();
    experiment_4();
}

/// Experiment 1: `called`, `result`, and `AlreadyCalledError` on a second `callback`.
fn experiment_1() {
    println!("# Experiment 1");
    // In [1]
    let (d, r) = Deferred::<i32>::new();
    // Python prints the class of the Deferred class (`<class 'type'>`); Rust has no
    // metaclass, so this prints the type itself.
    println!("{}", std::any::type_name::<Deferred<i32>>());
    println!("{d:?}");
    println!("{}", py_bool(d.called()));
    // In [2]
    r.callback(3).expect("first fire");
    println!("{}", py_bool(d.called()));
    // In [3]
    println!("{}", py_result(d.result()));
    // In [4]: firing again is an error; the Deferred keeps its first result.
    if let Err(e) = r.callback(6) {
        println!("{e:?}: {e}");
    }
    // In [ ]: d
    println!("{d:?}");
}

/// Experiment 2: a callback runs synchronously when the Deferred fires, and its return
/// value becomes the result.
fn experiment_2() {
    println!();
    println!("# Experiment 2");
    let (d, r) = Deferred::<i32>::new();
    let d = d.add_callback(foo);
    println!("{d:?}");
    println!("{}", py_bool(d.called()));
    r.callback(3).expect("first fire"); // prints "foo called", right here
    println!("{}", py_bool(d.called()));
    println!("{}", py_result(d.result()));
    println!("{d:?}");
}

/// Experiment 2's callback.
#[allow(
    clippy::unnecessary_wraps,
    reason = "a callback returns Result; this one never fails"
)]
fn foo(v: i32) -> Result<i32, Failure> {
    println!("foo called");
    Ok(v + 1)
}

/// The notebook's `b_callback`: returns the Deferred `b` it was given.
fn b_callback(arg: i32, b: Deferred<i32>) -> Deferred<i32> {
    println!("b_callback called with arg = {arg}");
    b
}

/// The notebook's `on_done`: prints its argument and passes it on.
#[allow(
    clippy::unnecessary_wraps,
    reason = "a callback returns Result; this one never fails"
)]
fn on_done<T: Py>(arg: T) -> Result<T, Failure> {
    println!("on_done called with arg = {}", arg.py());
    Ok(arg)
}

/// The notebook's `status(a, b)`: `[(result, number of pending callbacks), ...]`, with
/// `'N/A'` for a Deferred that has no result yet.
///
/// `a` is read through its own handle. `b` was moved into `a`'s callback, so it is read
/// through its [`Resolver`]: `called()`, `pending_callbacks()` and its repr, which shows
/// `current result: ...` as Twisted's does.
fn status(a: &Deferred<i32>, b: &Resolver<i32>) -> String {
    let a_result = if !a.called() {
        "'N/A'".to_owned()
    } else if a.is_waiting() {
        // Twisted's `a.result` is the Deferred `a` waits on, which is `b` here.
        format!("{b:?}")
    } else {
        py_result(a.result())
    };
    let b_result = if b.called() {
        current_result(&format!("{b:?}"))
    } else {
        "'N/A'".to_owned()
    };
    format!(
        "[({a_result}, {}), ({b_result}, {})]",
        a.pending_callbacks(),
        b.pending_callbacks()
    )
}

/// The `current result: ...` part of a Deferred's repr.
fn current_result(repr: &str) -> String {
    let Some((_, rest)) = repr.split_once(" current result: ") else {
        return "'N/A'".to_owned();
    };
    let end = [" paused: ", " callbacks: ", ">"]
        .iter()
        .filter_map(|marker| rest.rfind(marker))
        .min()
        .unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// Experiments 3, 3a and 3b: a callback that returns another Deferred `b` pauses the outer
/// chain until `b` has a result, whichever fires first, and `b`'s result is consumed.
fn experiment_3() {
    println!();
    println!("# Experiment 3");
    let (a, ra) = Deferred::<i32>::new();
    let (b, rb) = Deferred::<i32>::new();
    let a = a
        .add_callback(move |arg| b_callback(arg, b))
        .add_callback(on_done);
    println!("{a:?}");
    println!("{}", status(&a, &rb));

    println!();
    println!("# Experiment 3.a");
    ra.callback(3).expect("first fire");
    // Twisted shows `('N/A', 1)` for `b`: it chains by adding a callback to `b`. Here `b`
    // records which Deferred waits for it instead, so it has no pending callback.
    println!("{}", status(&a, &rb));
    rb.callback(4).expect("first fire");
    // `b`'s result went to `a`'s `on_done`: `b` is left with `None`, as in Twisted.
    println!("{}", status(&a, &rb));
    println!("{a:?}");
    println!("{rb:?}");

    println!();
    println!("# Experiment 3.b");
    let (a, ra) = Deferred::<i32>::new();
    let (b, rb) = Deferred::<i32>::new();
    let a = a
        .add_callback(move |arg| b_callback(arg, b))
        .add_callback(on_done);
    rb.callback(4).expect("first fire"); // b first: it has no callbacks and keeps 4
    println!("{}", status(&a, &rb));
    ra.callback(3).expect("first fire"); // b_callback, then on_done with b's 4
    println!("{}", status(&a, &rb));
}

/// Experiments 4, 4a and 4b: a `DeferredList` fires when every member has fired, with the
/// list of `(success, result)` pairs.
fn experiment_4() {
    println!();
    println!("# Experiment 4");
    let (deferreds, resolvers) = five_deferreds();
    let join = DeferredList::new(deferreds).build().add_callback(on_done);
    println!("{join:?}");

    println!();
    println!("# Experiment 4.a");
    // The members were moved into the list; their resolvers show their state. The list's
    // own callback took each member's value (Rust moves it rather than sharing it), so a
    // fired member's repr shows `None` where Twisted shows the number.
    for (i, r) in (0..).zip(&resolvers[..4]) {
        r.callback(i).expect("first fire");
        println!("{r:?}");
    }
    println!("{:?}", resolvers[4]);
    resolvers[4].callback(4).expect("first fire"); // the list fires: on_done runs
    println!("{}", py_result(join.result()));

    println!();
    println!("# Experiment 4.b");
    let (deferreds, resolvers) = five_deferreds();
    let _join = DeferredList::new(deferreds).build().add_callback(on_done);
    for (i, r) in (0..).zip(&resolvers) {
        r.callback(i).expect("first fire");
        if i == 4 {
            // "The last Deferred has fired too; the output of the list's callback is above."
            println!("最后一个延迟项也已经触发，上述打印了 join 对象的回调函数的执行结果");
        }
        println!("{r:?}");
    }
}

fn five_deferreds() -> (Vec<Deferred<i32>>, Vec<Resolver<i32>>) {
    (0..5).map(|_| Deferred::<i32>::new()).unzip()
}

/// Python's `repr` of the values this notebook prints.
trait Py {
    fn py(&self) -> String;
}

impl Py for i32 {
    fn py(&self) -> String {
        self.to_string()
    }
}

impl<T: Py> Py for Result<T, Failure> {
    /// One `(success, result)` pair of a `DeferredList`.
    fn py(&self) -> String {
        match self {
            Ok(v) => format!("(True, {})", v.py()),
            Err(f) => format!("(False, <Failure {f:?}>)"),
        }
    }
}

impl<T: Py> Py for Vec<T> {
    fn py(&self) -> String {
        let items: Vec<String> = self.iter().map(Py::py).collect();
        format!("[{}]", items.join(", "))
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `d.result` as Python shows it: the value, the failure, or `'N/A'` when there is none.
fn py_result<T: Py + Debug>(result: Option<Result<T, Failure>>) -> String {
    match result {
        Some(Ok(v)) => v.py(),
        Some(Err(f)) => format!("<Failure {f:?}>"),
        None => "'N/A'".to_owned(),
    }
}
