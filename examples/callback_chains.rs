//! The paired callback/errback chains of seed 002 ("Using Deferreds").
//!
//! First the seed's `errback0` .. `errback4` listing: five levels, fired with
//! `callback("error")`, which prints `callback1`, `callback2`, then `errback3` (the failure
//! raised by `callback2` skips `errback2`, which is in the same pair, and lands in the next
//! errback). Then each of the seed's six rules of Deferreds, shown by a short case.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --example callback_chains
//! ```

use std::io;

use tokio_twisted::defer::{Deferred, succeed};
use tokio_twisted::failure::{Failure, PanicError};

/// The seed's `MyCustomException(msg, code)`.
#[derive(Debug, thiserror::Error)]
#[error("{message} (code {code})")]
struct MyCustomException {
    message: String,
    code: i32,
}

impl MyCustomException {
    fn new(message: &str, code: i32) -> Self {
        MyCustomException {
            message: message.to_owned(),
            code,
        }
    }
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "a callback returns Result; this one never fails"
)]
fn callback1(mut result: String) -> Result<String, Failure> {
    println!("callback1 with input: {result}");
    result.insert_str(0, "from callback1:");
    Ok(result)
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a callback receives the chain's value by value"
)]
fn callback2(result: String) -> Result<(), Failure> {
    println!("callback2 with input: {result}");
    Err(MyCustomException::new("Message", 23).into())
}

/// The seed's `errback0` .. `errback4`, which differ only in their number: print the
/// exception's message and code, then return normally.
///
/// Returning normally switches the chain back to the callback path. The Python errbacks
/// return `None`; in Rust an errback must return a value of the chain's type, so these
/// return its `Default` (`""`, `()`).
fn errback<T: Default>(n: u32) -> impl FnOnce(Failure) -> Result<T, Failure> {
    move |failure| {
        match failure.downcast_ref::<MyCustomException>() {
            // Python's print("in errback3:", message, ' ', code) puts spaces between items.
            Some(e) => println!("in errback{n}: {}   {}", e.message, e.code),
            None => println!("in errback{n}: {failure}"),
        }
        Ok(T::default())
    }
}

/// The listing's chain: five levels, each a (callback, errback) pair.
fn seed_chain() -> (Deferred<()>, tokio_twisted::defer::Resolver<String>) {
    let (d, r) = Deferred::<String>::new();
    let d = d
        .add_errback(errback(0))
        .add_callbacks(callback1, errback(1))
        .add_callbacks(callback2, errback(2))
        .add_errback(errback(3))
        .add_errback(errback(4));
    (d, r)
}

fn main() {
    // Unhandled failures are reported through `tracing`; show them on stdout (rule 3).
    tracing_subscriber::fmt()
        .without_time()
        .with_ansi(false)
        .with_target(false)
        .with_writer(io::stdout)
        .init();

    println!("# errback0 .. errback4");
    let (d, r) = seed_chain();
    println!("levels: {}", d.pending_callbacks());
    r.callback("error".to_owned()).expect("first fire");
    // errback3 returned normally, so errback4 was skipped and the chain ends on success.
    println!("{d:?}");

    println!();
    println!("# errback0 .. errback4, fired with the seed's commented-out errback(...)");
    // Python's errback0 returns None, and callback1 then fails on `"..." + None`. Here
    // errback0 recovers with "", so callback1 and callback2 run on the success path.
    let (d, r) = seed_chain();
    r.errback(MyCustomException::new("Message", 24))
        .expect("first fire");
    println!("{d:?}");

    rule_1();
    rule_2();
    rule_3();
    rule_4();
    rule_5();
    rule_6();
}

/// Rule 1: a Deferred fires when its `callback` or `errback` is called, and its chain runs
/// right then, synchronously.
fn rule_1() {
    println!();
    println!("# Rule 1: a Deferred fires when callback() or errback() is called");
    let (d, r) = Deferred::<&str>::new();
    let _d = d.add_callback(|v| {
        println!("  callback got: {v}");
        Ok(())
    });
    println!("before callback(): nothing has run");
    r.callback("fired").expect("first fire");
    println!("after callback()");

    let (d, r) = Deferred::<&str>::new();
    let _d = d.add_errback(|f| {
        println!("  errback got: {f}");
        Ok("recovered")
    });
    println!("before errback(): nothing has run");
    r.errback(Failure::msg("failed")).expect("first fire");
    println!("after errback()");
}

/// Rule 2: a Deferred fires once; any later `callback` or `errback` is
/// `AlreadyCalledError`, and the first result stands.
fn rule_2() {
    println!();
    println!("# Rule 2: a Deferred can fire only once");
    let (d, r) = Deferred::<i32>::new();
    println!("callback(1): {:?}", r.callback(1));
    println!("callback(2): {:?}", r.callback(2));
    println!("errback(..): {:?}", r.errback(Failure::msg("too late")));
    println!("{d:?}");
}

/// Rule 3: a failure at level N goes to the errback of level N+1 (skipping callbacks); an
/// errback that returns normally sends the result on to the callback of the next level; a
/// failure nobody handles is reported as an unhandled error.
fn rule_3() {
    println!();
    println!("# Rule 3: a failure goes to the next errback; a normal return to the next callback");
    let (d, r) = Deferred::<i32>::new();
    let d = d
        .add_callback(|x: i32| -> Result<i32, Failure> {
            println!("  level 0 callback got {x}, fails");
            Err(Failure::msg("level 0 failed"))
        })
        .add_callback(|x| {
            println!("  level 1 callback: not reached");
            Ok(x)
        })
        .add_errback(|f| {
            println!("  level 2 errback got: {f}; recovers with 0");
            Ok(0)
        })
        .add_callback(|x| {
            println!("  level 3 callback got {x}");
            Ok(x + 1)
        });
    r.callback(7).expect("first fire");
    println!("{d:?}");

    println!("a failure that reaches the end of a chain is reported when the Deferred is dropped:");
    let (d, r) = Deferred::<i32>::new();
    let d = d.add_callback(|_x| -> Result<i32, Failure> { Err(Failure::msg("nobody handles this")) });
    r.callback(1).expect("first fire");
    drop(d);
}

/// Rule 4: what a callback returns is the next callback's argument.
fn rule_4() {
    println!();
    println!("# Rule 4: a callback's result is the next callback's argument");
    let d = succeed(2)
        .add_callback(|x| {
            println!("  got {x}, returns {}", x * 10);
            Ok(x * 10)
        })
        .add_callback(|x| {
            println!("  got {x}, returns \"{x}!\"");
            Ok(format!("{x}!"))
        })
        .add_callback(|s| {
            println!("  got \"{s}\"");
            Ok(s)
        });
    println!("{d:?}");
}

/// Rule 5: an error that is not a `Failure` is wrapped in one: any `Error` type given to
/// `errback` or returned with `?`, and a panic inside a callback.
fn rule_5() {
    println!();
    println!("# Rule 5: errors are wrapped in a Failure");
    let (d, r) = Deferred::<()>::new();
    let _d = d.add_errback(|f| {
        println!(
            "  errback got a Failure holding an io::Error: {} ({})",
            f.check::<io::Error>(),
            f
        );
    });
    r.errback(io::Error::new(io::ErrorKind::NotFound, "no such file"))
        .expect("first fire");

    let d = succeed("not a number")
        .add_callback(|s| -> Result<i32, Failure> { Ok(s.parse::<i32>()?) })
        .add_errback(|f| {
            println!(
                "  `?` made a Failure of a ParseIntError: {} ({})",
                f.check::<std::num::ParseIntError>(),
                f
            );
            Ok(0)
        });
    drop(d);

    // A panic in a callback is what a raised exception is in Python. Silence the default
    // panic message for this demonstration.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let d = succeed(1)
        .add_callback(|_x: i32| -> Result<i32, Failure> { panic!("callback blew up") })
        .add_errback(|f| {
            let message = f.downcast_ref::<PanicError>().map(PanicError::message);
            println!("  a panic became a Failure: {message:?}");
            Ok(0)
        });
    std::panic::set_hook(hook);
    drop(d);
}

/// Rule 6: callbacks and errbacks are added in pairs. `add_callback` pairs the callback
/// with a pass-through errback, `add_errback` the errback with a pass-through callback, so
/// both chains always have the same length. An errback never handles a failure raised by
/// the callback of its own pair.
fn rule_6() {
    println!();
    println!("# Rule 6: callbacks and errbacks come in pairs");
    let (d, _r) = Deferred::<i32>::new();
    let d = d.add_callback(|x| Ok(x + 1));
    println!("add_callback: {} level(s)", d.pending_callbacks());
    let d = d.add_errback(|_f| Ok(0));
    println!("add_errback: {} level(s)", d.pending_callbacks());
    let d = d.add_callbacks(|x| Ok(x * 2), |_f| Ok(0));
    println!("add_callbacks: {} level(s)", d.pending_callbacks());

    println!("add_callbacks(boom, eb): eb is in the same pair as boom, so it is skipped");
    let (d, r) = Deferred::<&str>::new();
    let _d = d.add_callbacks(boom, recover).add_errback(|f| {
        println!("  next level errback got: {f}");
        Ok(String::new())
    });
    r.callback("x").expect("first fire");

    println!("add_callback(boom).add_errback(eb): eb is one level down, so it handles it");
    let (d, r) = Deferred::<&str>::new();
    let _d = d.add_callback(boom).add_errback(recover).add_callback(|v| {
        println!("  next callback got: {v}");
        Ok(v)
    });
    r.callback("y").expect("first fire");
}

fn boom(x: &str) -> Result<String, Failure> {
    println!("  callback fails");
    Err(Failure::msg(format!("bad {x}")))
}

#[allow(
    clippy::unnecessary_wraps,
    clippy::needless_pass_by_value,
    reason = "an errback receives the Failure by value and returns Result; this one always recovers"
)]
fn recover(f: Failure) -> Result<String, Failure> {
    println!("  errback got: {f}");
    Ok("recovered".to_owned())
}
