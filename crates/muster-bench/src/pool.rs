//! N concurrent workers over a bounded job counter, with HDR latency histograms.

use anyhow::anyhow;
use hdrhistogram::Histogram;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Latencies in microseconds, from 1 µs to 10 minutes, 3 significant digits.
pub fn hist() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 600_000_000, 3).map_err(|e| anyhow!("histogram: {e:?}"))
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What a pool run measured; `out` holds each successful job's value with its index.
pub struct Measured<T> {
    pub hist: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub samples: Vec<String>,
    pub elapsed: Duration,
    pub out: Vec<(u64, T)>,
}

type WorkerResult<T> = (Histogram<u64>, Vec<(u64, T)>, u64, Vec<String>, u64);

/// Runs jobs `0..total` on `workers` concurrent tasks until all are done or `limit` has passed.
/// `f(worker, job)` does one job (one or a few HTTP requests); its time is one latency sample.
pub async fn run<T, F, Fut>(
    workers: usize,
    total: u64,
    limit: Option<Duration>,
    f: F,
) -> anyhow::Result<Measured<T>>
where
    T: Send + 'static,
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = limit.map(|d| start + d);
    let mut handles = Vec::new();
    for w in 0..workers.max(1) {
        let f = f.clone();
        let next = next.clone();
        handles.push(tokio::spawn(async move {
            let mut h = hist()?;
            let mut out = Vec::new();
            let (mut errors, mut n) = (0u64, 0u64);
            let mut samples = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t0 = Instant::now();
                let r = f(w, i).await;
                h.saturating_record(micros(t0.elapsed()));
                n += 1;
                match r {
                    Ok(v) => out.push((i, v)),
                    Err(e) => {
                        errors += 1;
                        if samples.len() < 3 {
                            samples.push(e);
                        }
                    }
                }
            }
            Ok::<WorkerResult<T>, anyhow::Error>((h, out, errors, samples, n))
        }));
    }
    let mut m = Measured {
        hist: hist()?,
        requests: 0,
        errors: 0,
        samples: Vec::new(),
        elapsed: Duration::ZERO,
        out: Vec::new(),
    };
    for h in handles {
        let (hh, out, errors, samples, n) = h.await??;
        m.hist.add(&hh).map_err(|e| anyhow!("histogram: {e:?}"))?;
        m.out.extend(out);
        m.errors += errors;
        m.requests += n;
        for s in samples {
            if m.samples.len() < 5 {
                m.samples.push(s);
            }
        }
    }
    m.elapsed = start.elapsed();
    m.out.sort_by_key(|(i, _)| *i);
    Ok(m)
}

/// A deterministic, well-mixed 64-bit hash (splitmix64): picks "random" items without an RNG.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
