//! Time, passed in (STYLE §5): the client asks a [`Clock`] for "now" and for sleeps, so a
//! rate-limit wait of 60 s costs nothing in tests and is recorded instead.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A boxed sleep, so the trait stays object-safe.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Wall-clock time and sleeping.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_epoch(&self) -> u64;
    fn sleep(&self, d: Duration) -> Sleep<'_>;
}

/// The real clock: `SystemTime` and `tokio::time::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_epoch(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
    fn sleep(&self, d: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A test clock: sleeping returns at once, advances "now" and is recorded.
#[derive(Clone, Debug, Default)]
pub struct FakeClock {
    inner: Arc<Mutex<FakeTime>>,
}

#[derive(Debug, Default)]
struct FakeTime {
    now: u64,
    sleeps: Vec<Duration>,
}

impl FakeClock {
    pub fn at(epoch_secs: u64) -> FakeClock {
        let clock = FakeClock::default();
        clock.inner.lock().expect("clock lock").now = epoch_secs;
        clock
    }
    /// Every sleep asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.lock().expect("clock lock").sleeps.clone()
    }
    /// The sum of all sleeps.
    pub fn slept(&self) -> Duration {
        self.sleeps().iter().sum()
    }
}

impl Clock for FakeClock {
    fn now_epoch(&self) -> u64 {
        self.inner.lock().expect("clock lock").now
    }
    fn sleep(&self, d: Duration) -> Sleep<'_> {
        let mut t = self.inner.lock().expect("clock lock");
        t.sleeps.push(d);
        t.now += d.as_secs();
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_clock_records_and_advances() {
        let c = FakeClock::at(1000);
        c.sleep(Duration::from_secs(60)).await;
        c.sleep(Duration::from_secs(5)).await;
        assert_eq!(c.now_epoch(), 1065);
        assert_eq!(c.slept(), Duration::from_secs(65));
        assert_eq!(c.sleeps().len(), 2);
    }
}
