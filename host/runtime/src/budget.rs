//! An instance's memory budget (`--max-memory`): its linear memory and what
//! the host holds for it — the responses of its session and of its own
//! `wasi:http` client — shared by the store's limiter and that client, whose
//! responses are let go of in other tasks.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use wasmtime::{ResourceLimiter, Result};

/// The guest asked for more memory than `--max-memory` allows.
#[derive(Debug, Clone, thiserror::Error)]
#[error("guest exceeded its memory limit of {limit_mib} MiB")]
pub struct MemoryLimitExceeded {
    pub limit_mib: usize,
}

/// What an instance uses of its budget.
pub struct MemoryBudget {
    limit_bytes: usize,
    /// Its linear memories, as grown.
    linear_bytes: AtomicUsize,
    /// Responses it holds handles to.
    held_bytes: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            limit_bytes,
            linear_bytes: AtomicUsize::new(0),
            held_bytes: AtomicUsize::new(0),
        })
    }

    pub fn limit_bytes(&self) -> usize {
        self.limit_bytes
    }

    fn exceeded(&self) -> MemoryLimitExceeded {
        MemoryLimitExceeded {
            limit_mib: self.limit_bytes >> 20,
        }
    }

    /// Counts `bytes` more held for the guest, unless that passes the limit.
    pub fn hold(&self, bytes: usize) -> Result<(), MemoryLimitExceeded> {
        let held = self.held_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if self.linear_bytes.load(Ordering::Relaxed) + held > self.limit_bytes {
            self.release(bytes);
            return Err(self.exceeded());
        }
        Ok(())
    }

    pub fn release(&self, bytes: usize) {
        self.held_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// One of its memories grows from `current` to `desired` bytes.
    fn grow(&self, current: usize, desired: usize) -> Result<(), MemoryLimitExceeded> {
        let linear = self.linear_bytes.load(Ordering::Relaxed);
        let grown = linear - current.min(linear) + desired;
        if grown + self.held_bytes.load(Ordering::Relaxed) > self.limit_bytes {
            return Err(self.exceeded());
        }
        self.linear_bytes.store(grown, Ordering::Relaxed);
        Ok(())
    }
}

/// The store's limiter, over its instance's budget: a typed error rather
/// than a failed grow.
pub struct Limiter(pub Arc<MemoryBudget>);

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        self.0.grow(current, desired)?;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// A response body whose bytes count against a budget until it is dropped.
pub struct HeldBody {
    body: Full<Bytes>,
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl HeldBody {
    /// `body`, held with `bytes` counted, if the budget has room for them.
    pub fn hold(
        body: Bytes,
        bytes: usize,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Self, MemoryLimitExceeded> {
        budget.hold(bytes)?;
        Ok(Self {
            body: Full::new(body),
            budget: Arc::clone(budget),
            bytes,
        })
    }
}

impl Drop for HeldBody {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

impl Body for HeldBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_bodies_count_until_dropped_and_the_limit_holds() {
        let budget = MemoryBudget::new(1 << 20);
        let mut limiter = Limiter(Arc::clone(&budget));
        assert!(limiter.memory_growing(0, 512 << 10, None).is_ok());
        let body = HeldBody::hold(Bytes::new(), 400 << 10, &budget).expect("room");
        assert!(HeldBody::hold(Bytes::new(), 200 << 10, &budget).is_err());
        assert!(limiter.memory_growing(512 << 10, 700 << 10, None).is_err());
        drop(body);
        assert!(HeldBody::hold(Bytes::new(), 400 << 10, &budget).is_ok());
        assert!(limiter.memory_growing(512 << 10, 1 << 20, None).is_ok());
    }
}
