// Tests: tests/service.rs, tests/service_net.rs, tests/conformance/test_service.rs,
// tests/conformance/test_app_internet.rs, tests/conformance/test_strports.rs

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
//! - [`TimerService`]: a function called every step; [`CooperatorService`]: a
//!   [`Cooperator`](crate::task::Cooperator) that runs while the service does;
//! - network services: [`StreamServerEndpointService`] (listens on an endpoint; see also
//!   [`strports::service`](crate::strports::service)), [`TcpServer`], [`UnixServer`],
//!   [`TcpClient`], and [`ClientService`], which keeps one connection up and reconnects
//!   with a [`backoff_policy`];
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

mod backoff;
mod client_service;
mod cooperator;
mod disconnect;
mod endpoint_service;
mod multi;
mod runner;
mod servers;
#[allow(
    clippy::module_inception,
    reason = "the module is named after Twisted's service module"
)]
mod service;
mod thread_bound;
mod timer;

pub use backoff::{RetryPolicy, backoff_policy, default_backoff_policy, no_jitter, random_jitter};
pub use client_service::ClientService;
pub use cooperator::CooperatorService;
pub use endpoint_service::StreamServerEndpointService;

pub use multi::{Application, MultiService};
pub use runner::{RunnerError, run_application};
#[cfg(unix)]
pub use servers::UnixServer;
pub use servers::{TcpClient, TcpServer};
pub use service::{
    BasicService, NameLocked, NoSuchService, NotAChild, Service, ServiceError, ServiceParent, ServiceState,
    StartError,
};
pub use timer::TimerService;
