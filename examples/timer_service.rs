//! A `TimerService` in an `Application`, run the way `twistd -n` runs a `.tac` file.
//!
//! The application holds two services: a timer that reports every 10 ms, and a "journal"
//! whose stop takes a moment (it flushes) and so delays the shutdown until it is done.
//! After three ticks the timer asks the reactor to stop; SIGINT or SIGTERM would do the
//! same. The runner starts the services (privileged phase, then the switch to the
//! application's user when run as root and one is set, then `start_service`), runs the
//! reactor, and stops them during shutdown. A failed start exits with status 1.
//!
//! Run it with `cargo run --example timer_service`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::service::{Application, Service, ServiceState, TimerService, run_application};

/// A service whose stop finishes later, as one that flushes a file would.
struct Journal {
    state: ServiceState,
    reactor: ReactorHandle,
}

impl Service for Journal {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        println!("journal: open");
        Ok(())
    }

    fn stop_service(&self) -> Deferred<()> {
        println!("journal: flushing");
        let (d, r) = Deferred::new();
        self.reactor.call_later(Duration::from_millis(20), move || {
            println!("journal: flushed");
            let _ = r.callback(());
        });
        let state = self.state.clone();
        d.add_callback(move |()| {
            state.set_running(false);
            Ok(())
        })
    }
}

fn main() -> ExitCode {
    let reactor = match Reactor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot build the reactor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let handle = reactor.handle();
    let app = Application::new("ticker");

    let journal = Arc::new(Journal {
        state: ServiceState::named("journal"),
        reactor: handle.clone(),
    });
    let mut ticks = 0;
    let stopper = handle.clone();
    let timer = Arc::new(TimerService::new(
        Duration::from_millis(10),
        handle.clone(),
        move || {
            ticks += 1;
            println!("timer: tick {ticks}");
            if ticks == 3 {
                println!("timer: asking the reactor to stop");
                stopper.stop()?;
            }
            Ok::<(), Failure>(())
        },
    ));
    for service in [journal as Arc<dyn Service>, timer as Arc<dyn Service>] {
        if let Err(e) = app.service().add_service(service) {
            eprintln!("cannot add a service: {e}");
            return ExitCode::FAILURE;
        }
    }

    match run_application(&reactor, &app) {
        Ok(()) => {
            println!("all services stopped: running = {}", app.service().running());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
