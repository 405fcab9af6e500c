//! A fork-join pool for the decode kernels whose workers spin between calls instead of
//! sleeping.
//!
//! Decoding one token runs about two hundred matrix-vector products of 20 µs to 2 ms each,
//! with a few microseconds of other work between them. On rayon's pool every product
//! wakes the sleeping workers through the kernel (futex), and a wake-up in a VM often costs
//! as much as the product itself: on the 2-core CI machine the second core added only 20%
//! to decode speed. Here the workers spin on one atomic word while calls keep coming, so a
//! new call starts on every core within a fraction of a microsecond, and they park on a
//! condition variable once no call has come for [`SPIN_BEFORE_PARK`] (so an idle flint, or
//! a long prefill on Burn's own kernels, costs no CPU). llama.cpp's thread pool does the
//! same.
//!
//! One call runs at a time: a second thread calling [`run`] while the pool is busy (tests,
//! two models in one process) runs its tasks on its own thread, correct and only slower.

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long an idle worker keeps spinning for the next call before it parks.
const SPIN_BEFORE_PARK: Duration = Duration::from_millis(2);

/// Most tasks one call may have: they are counted in 16 bits of [`Shared::state`].
pub const MAX_TASKS: usize = 0xFFFF;

/// Runs `task(i)` for every `i` in `0..tasks`, on the calling thread and the pool's
/// workers, and returns once all have finished. Tasks are claimed one at a time, so
/// uneven tasks still balance. A panic in any task is raised again here.
pub fn run(tasks: usize, task: &(dyn Fn(usize) + Sync)) {
    assert!(tasks <= MAX_TASKS, "{tasks} tasks, at most {MAX_TASKS}");
    let pool = Pool::global();
    let guard = match pool.caller.try_lock() {
        _ if tasks < 2 || pool.workers == 0 => None,
        Ok(guard) => Some(guard),
        // A task panicked in an earlier call; the pool itself is consistent again.
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    };
    let Some(mut epoch) = guard else {
        (0..tasks).for_each(task);
        return;
    };
    pool.shared.run(&mut epoch, tasks, task);
}

/// Splits `out` into chunks of `chunk_len` values and runs `task(i, chunk)` for each chunk
/// `i`, as [`run`] does: the shape of every kernel that computes disjoint spans of one
/// output.
pub fn run_on_chunks<T: Send>(
    out: &mut [T],
    chunk_len: usize,
    task: &(dyn Fn(usize, &mut [T]) + Sync),
) {
    // One lock per chunk: uncontended (each task takes its own), and it hands the chunk to
    // whichever thread claims the task without unsafe code.
    let chunks: Vec<Mutex<&mut [T]>> = out.chunks_mut(chunk_len.max(1)).map(Mutex::new).collect();
    run(chunks.len(), &|i| {
        let mut chunk = chunks[i].lock().unwrap_or_else(|e| e.into_inner());
        task(i, &mut chunk);
    });
}

/// Threads that run a call: the caller and the workers.
pub fn threads() -> usize {
    Pool::global().workers + 1
}

struct Pool {
    shared: &'static Shared,
    workers: usize,
    /// Held by the thread whose call the pool runs; holds the last epoch it published.
    caller: Mutex<u32>,
}

impl Pool {
    /// One pool per process, as many threads as rayon's (so `RAYON_NUM_THREADS` sizes
    /// both), started on first use.
    fn global() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let shared: &'static Shared = Box::leak(Box::default());
            let workers = rayon::current_num_threads().saturating_sub(1);
            for i in 0..workers {
                std::thread::Builder::new()
                    .name(format!("flint-cpu-{i}"))
                    .spawn(move || shared.work())
                    .expect("start a CPU worker thread");
            }
            Pool {
                shared,
                workers,
                caller: Mutex::new(0),
            }
        })
    }
}

/// The job as a lifetime-erased pointer: valid while any of its tasks is unfinished.
type JobPtr = *const (dyn Fn(usize) + Sync + 'static);

#[derive(Default)]
struct Shared {
    /// `epoch << 32 | tasks << 16 | next`: the current call, its task count and the next
    /// unclaimed task, in one word, so a claim (a compare-and-swap) can only succeed for a
    /// task of the call the claimer saw.
    state: AtomicU64,
    /// Tasks of the current call that have finished.
    done: AtomicUsize,
    /// The current call's closure; written only while no task of any call is unfinished.
    job: JobCell,
    /// A task panicked during the current call.
    panicked: AtomicBool,
    /// Workers parked, or about to park, on `wake`.
    sleepers: AtomicUsize,
    parking: Mutex<()>,
    wake: Condvar,
}

struct JobCell(UnsafeCell<Option<JobPtr>>);

impl Default for JobCell {
    fn default() -> Self {
        JobCell(UnsafeCell::new(None))
    }
}

// SAFETY: the cell is written only by the one caller holding `Pool::caller`, while no task is
// claimed or running, and read only by a thread that has claimed a task of the call that
// wrote it (see `Shared::claim_and_run`), which orders the read after the write.
unsafe impl Sync for JobCell {}
// SAFETY: as above; the pointer is only dereferenced under that protocol.
unsafe impl Send for JobCell {}

fn pack(epoch: u32, tasks: usize, next: usize) -> u64 {
    (epoch as u64) << 32 | (tasks as u64) << 16 | next as u64
}

fn epoch_of(state: u64) -> u32 {
    (state >> 32) as u32
}

impl Shared {
    fn run(&self, epoch: &mut u32, tasks: usize, task: &(dyn Fn(usize) + Sync)) {
        // SAFETY: erasing the lifetime is sound because this function returns only after
        // every task has finished (`done == tasks`), and no task can be claimed after
        // that: all `tasks` have been claimed, and a new call changes the epoch.
        let ptr: JobPtr = unsafe { std::mem::transmute(task as *const (dyn Fn(usize) + Sync)) };
        // SAFETY: we hold `Pool::caller` and the previous call has fully finished.
        unsafe { *self.job.0.get() = Some(ptr) };
        self.done.store(0, Ordering::Relaxed);
        self.panicked.store(false, Ordering::Relaxed);
        *epoch = epoch.wrapping_add(1);
        self.state.store(pack(*epoch, tasks, 0), Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _lock = self.parking.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_all();
        }
        self.claim_and_run(*epoch);
        let mut spins = 0u32;
        while self.done.load(Ordering::Acquire) < tasks {
            // A worker preempted in the middle of a task: let it have the core.
            spins += 1;
            if spins.is_multiple_of(4096) {
                std::thread::yield_now();
            }
            std::hint::spin_loop();
        }
        // SAFETY: every task has finished; nobody reads the cell until the next call.
        unsafe { *self.job.0.get() = None };
        if self.panicked.load(Ordering::Relaxed) {
            panic!("a task of flint's CPU pool panicked");
        }
    }

    /// Claims and runs tasks of call `epoch` until none is left.
    fn claim_and_run(&self, epoch: u32) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let (tasks, next) = ((state >> 16) as usize & 0xFFFF, state as usize & 0xFFFF);
            if epoch_of(state) != epoch || next >= tasks {
                return;
            }
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: task `next` of this call is claimed and unfinished, so the
                    // call has not returned and the cell holds its closure.
                    let job = unsafe { (*self.job.0.get()).expect("a published job") };
                    // SAFETY: the closure outlives the call (see `run`).
                    let result = catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(next) }));
                    if result.is_err() {
                        self.panicked.store(true, Ordering::Relaxed);
                    }
                    self.done.fetch_add(1, Ordering::Release);
                    state = self.state.load(Ordering::Acquire);
                }
                Err(current) => state = current,
            }
        }
    }

    /// A worker's life: wait for a new call (spinning, then parked), help with it, repeat.
    fn work(&self) {
        let mut seen = epoch_of(self.state.load(Ordering::Acquire));
        loop {
            let epoch = self.next_epoch(seen);
            self.claim_and_run(epoch);
            seen = epoch;
        }
    }

    /// Waits until the epoch differs from `seen`, and returns it.
    fn next_epoch(&self, seen: u32) -> u32 {
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            let epoch = epoch_of(self.state.load(Ordering::Acquire));
            if epoch != seen {
                return epoch;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) && started.elapsed() > SPIN_BEFORE_PARK {
                return self.park_until_changed(seen);
            }
            std::hint::spin_loop();
        }
    }

    fn park_until_changed(&self, seen: u32) -> u32 {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut lock = self.parking.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock after announcing ourselves: a caller publishing a call
        // either sees `sleepers > 0` and notifies under this lock, or published before
        // this load sees it.
        let epoch = loop {
            let epoch = epoch_of(self.state.load(Ordering::SeqCst));
            if epoch != seen {
                break epoch;
            }
            lock = self.wake.wait(lock).unwrap_or_else(|e| e.into_inner());
        };
        drop(lock);
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_exactly_once() {
        for tasks in [0, 1, 2, 3, 17, 1000] {
            let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
            run(tasks, &|i| {
                counts[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn calls_from_many_threads_at_once_all_complete() {
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for round in 0..200 {
                        let sum = AtomicUsize::new(0);
                        run(64, &|i| {
                            sum.fetch_add(i + t + round, Ordering::Relaxed);
                        });
                        let want = (0..64).sum::<usize>() + 64 * (t + round);
                        assert_eq!(sum.load(Ordering::Relaxed), want);
                    }
                });
            }
        });
    }

    #[test]
    fn workers_that_parked_wake_for_the_next_call() {
        run(8, &|_| {});
        std::thread::sleep(SPIN_BEFORE_PARK * 3);
        let ran = AtomicUsize::new(0);
        run(8, &|_| {
            ran.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(ran.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn a_panicking_task_panics_the_caller_and_the_pool_still_works() {
        let caught = std::panic::catch_unwind(|| run(16, &|i| assert_ne!(i, 7)));
        assert!(caught.is_err());
        let ran = AtomicUsize::new(0);
        run(16, &|_| {
            ran.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(ran.load(Ordering::Relaxed), 16);
    }
}
