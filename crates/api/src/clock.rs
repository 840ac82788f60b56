//! The time business rules see: the real time in production, a time the test sets in tests.
//! Everything that decides *when* something happens to a lead (enrollment, ramp-up, the
//! scheduler and the sender) reads this clock or takes `now` as a parameter — never the
//! database's `now()` — so a test drives time and passes on any day. Security clocks (token
//! expiry, log-in throttling) stay on the real time and are not faked.

use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<OffsetDateTime>>>);

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that shows `at` until it is set again.
    pub fn manual(at: OffsetDateTime) -> Self {
        Self(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> OffsetDateTime {
        match &self.0 {
            None => OffsetDateTime::now_utc(),
            Some(at) => *at.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a manual clock to `at` (a system clock ignores it).
    pub fn set(&self, at: OffsetDateTime) {
        if let Some(cell) = &self.0 {
            *cell.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }
}
