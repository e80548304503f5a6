//! The `HeadlineRetriever` of seed 002 ("Callback Chains and Using Deferreds in the
//! Reactor"): a headline goes through `defer_later(0, preprocess_headline)`, then
//! `_toHTML`, then `printData` / `printError`; a last callback stops the reactor.
//!
//! Run twice, each on a fresh reactor:
//!
//! 1. the seed's call, with a 60-character headline: `preprocess_headline` fails ("too
//!    long"), the failure skips `_toHTML` and `printData` and reaches `printError`. Prints
//!    "call processHeadline", a blank line, and the seed's own line, "来自:" ("from:" in
//!    Chinese) followed by the failure: the headline "is too long!";
//! 2. the call the seed left commented out, "Breaking News: Twisted Takes Us to the
//!    Moon!": "call processHeadline", "call _toHTML", "call printData" (each followed by a
//!    blank line, as the seed's `print("...\n")` does), then the HTML.
//!
//! `printError` returns normally, so the chain is back on the callback path, and the
//! seed's `addCallback(lambda ignored: reactor.stop())` stops the reactor in both runs.
//!
//! ```sh
//! cargo run --example headline_retriever
//! ```

use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::task::defer_later;

/// The seed's class. It keeps the Deferred it built in `d`, as the seed's `self.d`, for
/// the caller to add to; here the caller takes it out, since a Deferred has one owner.
struct HeadlineRetriever {
    d: Option<Deferred<()>>,
}

impl HeadlineRetriever {
    fn preprocess_headline(headline: String) -> Result<String, Failure> {
        println!("call processHeadline\n");
        if headline.chars().count() > 50 {
            Err(Failure::msg(format!("The headline ``{headline}'' is too long!")))
        } else {
            Ok(headline)
        }
    }

    #[allow(
        clippy::unnecessary_wraps,
        reason = "a callback returns Result; this one never fails"
    )]
    #[allow(
        clippy::needless_pass_by_value,
        reason = "a callback receives the chain's value by value"
    )]
    fn to_html(result: String) -> Result<String, Failure> {
        println!("call _toHTML\n");
        Ok(format!("<h1>{result}</h1>"))
    }

    fn get_headline(&mut self, reactor: &ReactorHandle, input: String) {
        let d = defer_later(reactor, Duration::ZERO, move || {
            HeadlineRetriever::preprocess_headline(input)
        })
        .add_callback(HeadlineRetriever::to_html)
        .add_callbacks(print_data, print_error);
        self.d = Some(d);
    }
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "a callback returns Result; this one never fails"
)]
#[allow(
    clippy::needless_pass_by_value,
    reason = "a callback receives the chain's value by value"
)]
fn print_data(result: String) -> Result<(), Failure> {
    println!("call printData\n");
    println!("{result}");
    Ok(())
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "an errback that handles the failure returns Ok"
)]
#[allow(
    clippy::needless_pass_by_value,
    reason = "an errback receives the failure by value"
)]
fn print_error(failure: Failure) -> Result<(), Failure> {
    // Python's `print("来自:", failure)`, without the traceback.
    println!(
        "来自: [Failure instance: {}: {}]",
        failure.type_name(),
        failure.error_message()
    );
    Ok(())
}

fn retrieve(headline: String) -> Result<(), Box<dyn std::error::Error>> {
    let reactor = Reactor::builder().without_signal_handlers().build()?;
    let mut h = HeadlineRetriever { d: None };
    h.get_headline(&reactor.handle(), headline);
    let stopper = reactor.handle();
    let d =
        h.d.take()
            .expect("get_headline sets d")
            .add_callback(move |_ignored| {
                stopper.stop()?;
                Ok::<_, Failure>(())
            });
    reactor.run()?;
    if d.called() {
        Ok(())
    } else {
        Err("the reactor stopped before the headline was handled".into())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("------ the seed's headline: 60 characters ------");
    retrieve("1234567890".repeat(6))?;
    println!("------ the headline the seed left commented out ------");
    retrieve("Breaking News: Twisted Takes Us to the Moon!".to_owned())
}
