// Tests: tests/service.rs, tests/conformance/test_service.rs

//! Services: Twisted's `twisted.application.service` and the timer of
//! `twisted.application.internet`.
//!
//! A program is a tree of [`Service`]s rooted in an [`Application`]: each service starts
//! and stops with its parent ([`MultiService`]), and the runner
//! ([`run_application`], Twisted's `twistd -n`) starts the tree on a reactor, after the
//! privileged phase and the switch to the application's user and group, and stops it
//! when the reactor shuts down (on SIGINT or SIGTERM too).
//!
//! - [`Service`] (`IService`) with its state in a [`ServiceState`]; [`BasicService`] is
//!   Twisted's plain `Service()`;
//! - [`MultiService`] and [`Application`] (through [`ServiceParent`], Twisted's
//!   `IServiceCollection` adaptation);
//! - [`TimerService`]: a function called every step;
//! - errors: [`NameLocked`], [`NoSuchService`], [`NotAChild`], [`ServiceError`],
//!   [`StartError`], [`RunnerError`].
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tokio_twisted::service::{Application, Service, TimerService};
//! use tokio_twisted::task::Clock;
//!
//! let clock = Clock::new();
//! let app = Application::new("monitor");
//! let timer = Arc::new(TimerService::new(Duration::from_secs(60), clock.clone(), || {
//!     println!("checking the disks");
//! }));
//! timer.clone().set_service_parent(&app).unwrap();
//! app.service().start_service().unwrap(); // what the runner does
//! assert!(timer.running());
//! assert!(app.service().stop_service().called());
//! assert!(!timer.running());
//! ```

mod multi;
mod runner;
#[allow(
    clippy::module_inception,
    reason = "the module is named after Twisted's service module"
)]
mod service;
mod timer;

pub use multi::{Application, MultiService};
pub use runner::{RunnerError, run_application};
pub use service::{
    BasicService, NameLocked, NoSuchService, NotAChild, Service, ServiceError, ServiceParent, ServiceState,
    StartError,
};
pub use timer::TimerService;
