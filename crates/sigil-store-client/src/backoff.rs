//! Exponential backoff with jitter between attempts that got no leader hint.

use std::time::Duration;

/// Pauses that double from `initial` up to `max`; each pause is drawn at random from its
/// upper half, so clients that failed together do not retry together.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            next: initial.min(max),
            max,
        }
    }

    /// The pause to take now; the following one is twice as long (up to the maximum).
    pub(crate) fn next_pause(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (ceiling * 2).min(self.max);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rand::random_range(0..=spread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_maximum_with_jitter_in_the_upper_half() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(200));
        let ceilings = [10, 20, 40, 80, 160, 200, 200];
        for ceiling in ceilings {
            let ceiling = Duration::from_millis(ceiling);
            let pause = backoff.next_pause();
            assert!(
                pause >= ceiling / 2 && pause <= ceiling,
                "{pause:?} vs {ceiling:?}"
            );
        }
    }
}
