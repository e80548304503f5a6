// Tests: tests/service.rs, tests/conformance/test_service.rs

//! `MultiService`, a service made of services, and `Application`, the root of a program's
//! service tree.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use crate::defer::{Deferred, DeferredList, fail, maybe_deferred};
use crate::failure::Failure;
use crate::lock::lock;

use super::service::{
    NoSuchService, NotAChild, Service, ServiceError, ServiceParent, ServiceState, StartError,
};

/// A service whose children start and stop with it: Twisted's `MultiService`.
///
/// Children start in the order they were added and stop in reverse order; every child's
/// `stop_service` is called at once, without waiting for the previous one, and the
/// `MultiService`'s own stop fires when all of theirs have (a child's failed stop is
/// logged). A child added while the `MultiService` runs is started at once; two children
/// cannot share a name. It is always used through an `Arc` (children point back to it).
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::service::{BasicService, MultiService, Service};
///
/// let root = MultiService::new();
/// let web = Arc::new(BasicService::named("web"));
/// web.clone().set_service_parent(&root).unwrap();
/// root.start_service().unwrap();
/// assert!(web.running());
/// assert!(Arc::ptr_eq(&root.get_service_named("web").unwrap(), &(web.clone() as Arc<dyn Service>)));
/// let stopped = root.stop_service();
/// assert!(stopped.called() && !web.running());
/// ```
#[doc(alias = "twisted.application.service.MultiService")]
pub struct MultiService {
    state: ServiceState,
    me: Weak<MultiService>,
    children: Mutex<Vec<Arc<dyn Service>>>,
}

impl MultiService {
    /// An empty, unnamed `MultiService`.
    ///
    /// ```
    /// # use tokio_twisted::service::MultiService;
    /// assert!(MultiService::new().services().is_empty());
    /// ```
    pub fn new() -> Arc<MultiService> {
        Self::with_state(ServiceState::default())
    }

    /// An empty `MultiService` with a name.
    ///
    /// ```
    /// # use tokio_twisted::service::{MultiService, Service};
    /// assert_eq!(MultiService::named("root").name().as_deref(), Some("root"));
    /// ```
    pub fn named(name: &str) -> Arc<MultiService> {
        Self::with_state(ServiceState::named(name))
    }

    fn with_state(state: ServiceState) -> Arc<MultiService> {
        Arc::new_cyclic(|me| MultiService {
            state,
            me: me.clone(),
            children: Mutex::new(Vec::new()),
        })
    }

    /// Adds a child (Twisted's `addService`; [`Service::set_service_parent`] is the usual
    /// way in). If this `MultiService` is running, the child's `privileged_start_service`
    /// and `start_service` run now.
    ///
    /// # Errors
    ///
    /// [`ServiceError::DuplicateName`] if a child has the same name (nothing changes), or
    /// [`ServiceError::StartFailed`] if the child failed to start (it stays a child).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokio_twisted::service::{BasicService, MultiService, Service};
    ///
    /// let root = MultiService::new();
    /// root.start_service().unwrap();
    /// let late = Arc::new(BasicService::new());
    /// root.add_service(late.clone()).unwrap();
    /// assert!(late.running()); // started on arrival
    /// assert!(late.parent().is_some());
    /// ```
    #[doc(alias = "addService")]
    pub fn add_service(&self, service: Arc<dyn Service>) -> Result<(), ServiceError> {
        let child = Arc::clone(&service);
        {
            let mut children = lock(&self.children);
            if let Some(name) = service.name() {
                if children
                    .iter()
                    .any(|c| c.name().as_deref() == Some(name.as_str()))
                {
                    return Err(ServiceError::DuplicateName(name));
                }
            }
            children.push(service);
        }
        let service = child;
        service.state().set_parent(Some(self.me.clone()));
        if self.running() {
            service
                .privileged_start_service()
                .and_then(|()| service.start_service())
                .map_err(|f| ServiceError::StartFailed(StartError::new(f)))?;
        }
        Ok(())
    }

    /// Removes a child (Twisted's `removeService`), clearing its parent; if this
    /// `MultiService` is running, the child is stopped and its stop is returned, otherwise a
    /// fired Deferred.
    ///
    /// The Deferred fails with [`NotAChild`] if `service` is not a child.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokio_twisted::service::{BasicService, MultiService, Service};
    ///
    /// let root = MultiService::new();
    /// let child: Arc<dyn Service> = Arc::new(BasicService::new());
    /// root.add_service(child.clone()).unwrap();
    /// root.start_service().unwrap();
    /// assert!(root.remove_service(&child).called());
    /// assert!(!child.running() && child.parent().is_none() && root.services().is_empty());
    /// ```
    #[doc(alias = "removeService")]
    pub fn remove_service(&self, service: &Arc<dyn Service>) -> Deferred<()> {
        let removed = {
            let mut children = lock(&self.children);
            children
                .iter()
                .position(|c| Arc::ptr_eq(c, service))
                .map(|at| children.remove(at))
        };
        let Some(child) = removed else {
            return fail(Failure::new(NotAChild));
        };
        child.state().set_parent(None);
        if self.running() {
            maybe_deferred(|| child.stop_service())
        } else {
            crate::defer::succeed(())
        }
    }

    /// The child named `name`: Twisted's `getServiceNamed`.
    ///
    /// # Errors
    ///
    /// [`NoSuchService`] if no child has that name.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokio_twisted::service::{BasicService, MultiService, Service};
    ///
    /// let root = MultiService::new();
    /// Arc::new(BasicService::named("db")).set_service_parent(&root).unwrap();
    /// assert_eq!(root.get_service_named("db").unwrap().name().as_deref(), Some("db"));
    /// assert!(root.get_service_named("web").is_err());
    /// ```
    #[doc(alias = "getServiceNamed")]
    pub fn get_service_named(&self, name: &str) -> Result<Arc<dyn Service>, NoSuchService> {
        lock(&self.children)
            .iter()
            .find(|c| c.name().as_deref() == Some(name))
            .cloned()
            .ok_or_else(|| NoSuchService(name.to_owned()))
    }

    /// The children, in the order they were added (iterating a Twisted `MultiService`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokio_twisted::service::{BasicService, MultiService, Service};
    ///
    /// let root = MultiService::new();
    /// for name in ["a", "b"] {
    ///     Arc::new(BasicService::named(name)).set_service_parent(&root).unwrap();
    /// }
    /// let names: Vec<_> = root.services().iter().map(|s| s.name().unwrap()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    #[doc(alias = "__iter__")]
    pub fn services(&self) -> Vec<Arc<dyn Service>> {
        lock(&self.children).clone()
    }
}

impl Service for MultiService {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    /// Runs every child's `privileged_start_service`, in order, stopping at the first
    /// failure.
    fn privileged_start_service(&self) -> Result<(), Failure> {
        for child in self.services() {
            child.privileged_start_service()?;
        }
        Ok(())
    }

    /// Marks this `MultiService` running, then starts every child in order, stopping at the
    /// first failure.
    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        for child in self.services() {
            child.start_service()?;
        }
        Ok(())
    }

    /// Marks this `MultiService` stopped and stops every child, last added first, all at
    /// once; fires when every child's stop has fired (a child whose stop fails is logged).
    fn stop_service(&self) -> Deferred<()> {
        self.state.set_running(false);
        let stops: Vec<_> = self
            .services()
            .into_iter()
            .rev()
            .map(|child| maybe_deferred(move || child.stop_service()))
            .collect();
        DeferredList::new(stops)
            .consume_errors()
            .build()
            .add_callback(|results| {
                for failure in results.into_iter().filter_map(Result::err) {
                    crate::log::failure("while stopping a service", &failure);
                }
                Ok(())
            })
    }
}

impl fmt::Debug for MultiService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiService")
            .field("state", &self.state)
            .field("children", &lock(&self.children).len())
            .finish_non_exhaustive()
    }
}

/// The root of a program's services, with the user and group to run as: Twisted's
/// `service.Application(name, uid, gid)`.
///
/// Its [`service`](Self::service) is the [`MultiService`] everything is added to (Twisted's
/// `IService(application)`, named after the application); [`uid`](Self::uid) and
/// [`gid`](Self::gid) are its `IProcess` component. The runner
/// ([`run_application`](super::run_application)) starts it.
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::service::{Application, BasicService, Service};
///
/// let app = Application::new("finger").with_uid(1).with_gid(1);
/// Arc::new(BasicService::named("finger-tcp")).set_service_parent(&app).unwrap();
/// assert_eq!(app.service().name().as_deref(), Some("finger"));
/// assert_eq!((app.uid(), app.gid()), (Some(1), Some(1)));
/// assert_eq!(app.service().services().len(), 1);
/// ```
#[doc(alias = "twisted.application.service.Application")]
#[doc(alias = "IProcess")]
#[derive(Clone)]
pub struct Application {
    service: Arc<MultiService>,
    uid: Option<u32>,
    gid: Option<u32>,
}

impl Application {
    /// An application named `name`, to run as whoever starts it.
    ///
    /// ```
    /// # use tokio_twisted::service::Application;
    /// let app = Application::new("hello");
    /// assert_eq!((app.uid(), app.gid()), (None, None));
    /// ```
    pub fn new(name: &str) -> Self {
        Application {
            service: MultiService::named(name),
            uid: None,
            gid: None,
        }
    }

    /// Runs as user `uid` after the privileged start, when started as root.
    ///
    /// ```
    /// # use tokio_twisted::service::Application;
    /// assert_eq!(Application::new("hello").with_uid(5).uid(), Some(5));
    /// ```
    #[must_use]
    pub fn with_uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// Runs as group `gid` after the privileged start, when started as root.
    ///
    /// ```
    /// # use tokio_twisted::service::Application;
    /// assert_eq!(Application::new("hello").with_gid(6).gid(), Some(6));
    /// ```
    #[must_use]
    pub fn with_gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }

    /// The user to switch to (Twisted's `IProcess(app).uid`).
    ///
    /// ```
    /// # use tokio_twisted::service::Application;
    /// assert_eq!(Application::new("hello").uid(), None);
    /// ```
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// The group to switch to (Twisted's `IProcess(app).gid`).
    ///
    /// ```
    /// # use tokio_twisted::service::Application;
    /// assert_eq!(Application::new("hello").gid(), None);
    /// ```
    pub fn gid(&self) -> Option<u32> {
        self.gid
    }

    /// The application's top service (Twisted's `IService(app)` and
    /// `IServiceCollection(app)`, one object).
    ///
    /// ```
    /// # use tokio_twisted::service::{Application, Service};
    /// let app = Application::new("hello");
    /// assert!(app.service().parent().is_none());
    /// ```
    #[doc(alias = "IService")]
    pub fn service(&self) -> &Arc<MultiService> {
        &self.service
    }
}

impl ServiceParent for Application {
    fn collection(&self) -> &Arc<MultiService> {
        &self.service
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("name", &self.service.name())
            .field("uid", &self.uid)
            .field("gid", &self.gid)
            .finish()
    }
}
