// Tests: tests/service_net.rs, tests/conformance/test_app_internet.rs

//! `ThreadBound`: a value that stays on the thread that created it, behind a handle that
//! any thread may hold.
//!
//! Services are `Send + Sync` (a tree of them is shared with the runner and with
//! callbacks), but the factories and endpoints the network services use are not required
//! to be: a Twisted-style factory shares its state with its protocols through `Rc`, and
//! protocols live on the reactor thread. Requiring `F: Factory + Send` would rule those
//! out (the finger server's factory among them), so the network services keep the
//! factory and the endpoint here instead: the value lives in a slot of the creating
//! thread (the reactor thread, where services are built and started), and the handle is
//! just a key. Reaching the value from any other thread is a typed error, never a data
//! race, and it needs no `unsafe`.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::ThreadId;

use crate::error::NotReactorThreadError;

thread_local! {
    /// The values bound to this thread, by key.
    static SLOTS: RefCell<HashMap<u64, Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// A handle to a `T` kept on the thread that created it. `Send + Sync` whatever `T` is:
/// it holds only a key. Dropped on its own thread, it drops the value; dropped elsewhere,
/// the value stays until its thread ends (it cannot be dropped from another thread).
pub(crate) struct ThreadBound<T: 'static> {
    key: u64,
    thread: ThreadId,
    _value: PhantomData<fn() -> T>,
}

impl<T: 'static> ThreadBound<T> {
    /// Binds `value` to the current thread.
    pub(crate) fn new(value: T) -> Self {
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let value: Rc<dyn Any> = Rc::new(value);
        SLOTS.with(|slots| slots.borrow_mut().insert(key, value));
        ThreadBound {
            key,
            thread: std::thread::current().id(),
            _value: PhantomData,
        }
    }

    /// The value, from the thread that created it. The slot is borrowed only to clone the
    /// `Rc`, so the caller may run user code (which may bind values of its own) while it
    /// holds the result.
    pub(crate) fn get(&self) -> Result<Rc<T>, NotReactorThreadError> {
        if std::thread::current().id() != self.thread {
            return Err(NotReactorThreadError);
        }
        let value = SLOTS
            .try_with(|slots| slots.borrow().get(&self.key).cloned())
            .ok()
            .flatten()
            .ok_or(NotReactorThreadError)?;
        value.downcast::<T>().map_err(|_| NotReactorThreadError)
    }
}

impl<T: 'static> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if std::thread::current().id() != self.thread {
            return;
        }
        // Taken out first, dropped after the borrow ends: dropping may run user code.
        let taken = SLOTS
            .try_with(|slots| slots.try_borrow_mut().ok().and_then(|mut s| s.remove(&self.key)))
            .ok()
            .flatten();
        drop(taken);
    }
}

impl<T: 'static> std::fmt::Debug for ThreadBound<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadBound")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::ThreadBound;
    use std::rc::Rc;

    #[test]
    fn reachable_only_from_its_thread() {
        let bound = ThreadBound::new(Rc::new(5));
        assert_eq!(**bound.get().unwrap(), 5);
        let bound = std::sync::Arc::new(bound);
        let other = std::sync::Arc::clone(&bound);
        assert!(std::thread::spawn(move || other.get().is_err()).join().unwrap());
    }

    #[test]
    fn dropping_on_its_thread_drops_the_value() {
        let value = Rc::new(());
        let bound = ThreadBound::new(Rc::clone(&value));
        assert_eq!(Rc::strong_count(&value), 2);
        drop(bound);
        assert_eq!(Rc::strong_count(&value), 1);
    }
}
