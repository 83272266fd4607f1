//! Files mapped into memory, and what happens when one is cut shorter by
//! another process while talon reads it.
//!
//! Reading a page of a mapping past the file's new end raises SIGBUS,
//! which would end talon without a word. Each mapping is registered here
//! (its address range and a message naming its file); a SIGBUS handler
//! finds the mapping holding the faulting address, writes that message to
//! stderr and exits with status 2, the status of an input that could not
//! be read to its end. A fault outside every registered mapping is left to
//! the default action.

use std::collections::BTreeMap;
use std::ops::{Deref, Range};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Mappings that can be told apart at once; more (inputs are mapped one
/// after the other, so a few at most are alive) fall back to a message
/// that cannot name the file.
const SLOTS: usize = 32;

struct Slot {
    used: AtomicBool,
    start: AtomicUsize,
    len: AtomicUsize,
    msg: AtomicPtr<u8>,
    msg_len: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    used: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    msg: AtomicPtr::new(std::ptr::null_mut()),
    msg_len: AtomicUsize::new(0),
};

static SLOTS_IN_USE: [Slot; SLOTS] = [FREE; SLOTS];

/// A read-only mapping of a whole file, registered for the SIGBUS message.
#[derive(Debug)]
pub struct FileMap {
    map: memmap2::Mmap,
    slot: Option<usize>,
    /// What the handler writes (owned here; the slot points into it).
    _msg: Box<[u8]>,
    /// The chunks in use and the released ranges not yet let go of.
    held: Mutex<Held>,
    /// The file mapped, to tell whether it grew while it was read.
    file: Option<std::fs::File>,
    /// Released bytes let go of at once ([`RELEASE_AT_ONCE`]; tests: 0).
    release_at_once: usize,
}

/// The chunks of a [`FileMap`] in use, and what is released but not yet
/// let go of.
#[derive(Debug, Default)]
struct Held {
    /// The byte ranges of the chunks cut and not yet read (start → end).
    live: BTreeMap<usize, usize>,
    /// Released ranges, merged, still mapped.
    pending: Option<Range<usize>>,
}

/// How many released bytes are let go of in one call. Each call costs a
/// system call and, with threads on several cores, interrupts to the
/// others to flush their address caches: letting go of every 512 KiB
/// chunk on its own made two threads spend more time in the kernel than
/// the search took (1 GB, seed rule, two cores: 237 ms against 211 ms with
/// no release at all). Memory stays bounded: at most this much more.
const RELEASE_AT_ONCE: usize = 16 << 20;

/// The largest block of a file the kernel may map at one fault: a page
/// cache folio up to a huge page (2 MiB on x86-64), mapped whole by recent
/// kernels, or the fault-around window (64 KiB by default).
const MAPPED_AT_ONCE: usize = 2 * 1024 * 1024;

impl FileMap {
    /// Marks `range` as in use by a chunk until [`FileMap::release`].
    pub(crate) fn hold(&self, range: &Range<usize>) {
        if let Ok(mut held) = self.held.lock() {
            held.live.insert(range.start, range.end);
        }
    }

    /// Lets go of a chunk's pages once it is read, so that memory does not
    /// grow with the file: the pages stay in the page cache, only this
    /// process's mapping of them goes.
    ///
    /// What goes is the whole gap between the chunks still held on either
    /// side, not just this chunk's bytes: a fault while reading a later
    /// chunk can map, with its own page, a block of the file reaching back
    /// into chunks already released (see [`MAPPED_AT_ONCE`]), and those
    /// pages stayed mapped to the end (about one in twelve of a large file:
    /// peak memory grew with the input).
    ///
    /// Released gaps are let go of together, once they add up to
    /// [`RELEASE_AT_ONCE`] bytes in a row (or a gap does not join the
    /// ones before it).
    pub(crate) fn release(&self, range: &Range<usize>) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        let live = &mut held.live;
        live.remove(&range.start);
        let page = page_size();
        let below = live.range(..range.start).next_back().map(|(_, &end)| end);
        let above = live.range(range.end..).next().map(|(&start, _)| start);
        let from = match below {
            Some(end) => end.next_multiple_of(page),
            None => range.start.saturating_sub(MAPPED_AT_ONCE) / page * page,
        };
        let to = match above {
            Some(start) => start / page * page,
            None => range.end.saturating_add(MAPPED_AT_ONCE),
        }
        .min(self.map.len());
        if from >= to {
            return;
        }
        let (go, keep) = match held.pending.take() {
            Some(p) if from <= p.end && p.start <= to => (None, p.start.min(from)..p.end.max(to)),
            Some(p) => (Some(p), from..to),
            None => (None, from..to),
        };
        let (go, keep) = match keep.len() >= self.release_at_once {
            true => (go.into_iter().chain(Some(keep)).collect(), None),
            false => (go.into_iter().collect::<Vec<_>>(), Some(keep)),
        };
        held.pending = keep;
        drop(held);
        for r in go {
            // SAFETY: the map is a read-only mapping of a file
            // (`MAP_SHARED`, `PROT_READ`). `MADV_DONTNEED` there only drops
            // page-table entries: a later read of the range (by a chunk
            // that shares a page with it, or is cut after the release)
            // faults the same bytes back in from the file, so no
            // reference into the map ever sees other contents.
            let _ = unsafe {
                self.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    r.start,
                    r.len(),
                )
            };
        }
    }
}

fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    })
}

impl FileMap {
    /// Bytes the file holds beyond what was mapped (it grew while it was
    /// read); `None` when it did not grow, or it cannot be told.
    pub(crate) fn grown(&self) -> Option<u64> {
        let now = self.file.as_ref()?.metadata().ok()?.len();
        now.checked_sub(self.map.len() as u64).filter(|n| *n > 0)
    }

    /// `map`, mapped from `file`, kept to tell whether it grows (see
    /// [`FileMap::grown`]).
    pub(crate) fn of_file(map: memmap2::Mmap, name: &str, file: &std::fs::File) -> FileMap {
        let mut m = FileMap::new(map, name);
        m.file = file.try_clone().ok();
        m
    }

    /// Registers `map`, the mapping of the file shown as `name`.
    pub(crate) fn new(map: memmap2::Mmap, name: &str) -> FileMap {
        install_handler();
        let msg: Box<[u8]> = format!(
            "talon: error: {name}: the file was cut shorter while talon read it \
             (it was mapped into memory); stopped without a summary. \
             Run again with --no-mmap to read a file that may change.\n"
        )
        .into_bytes()
        .into_boxed_slice();
        let slot = SLOTS_IN_USE.iter().position(|s| {
            s.used
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        });
        if let Some(i) = slot {
            let s = &SLOTS_IN_USE[i];
            s.msg.store(msg.as_ptr().cast_mut(), Ordering::Release);
            s.msg_len.store(msg.len(), Ordering::Release);
            s.start.store(map.as_ptr() as usize, Ordering::Release);
            s.len.store(map.len(), Ordering::Release);
        }
        FileMap {
            map,
            slot,
            _msg: msg,
            held: Mutex::default(),
            file: None,
            release_at_once: RELEASE_AT_ONCE,
        }
    }
}

impl Deref for FileMap {
    type Target = memmap2::Mmap;

    fn deref(&self) -> &memmap2::Mmap {
        &self.map
    }
}

impl Drop for FileMap {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let s = &SLOTS_IN_USE[i];
            s.len.store(0, Ordering::Release);
            s.msg_len.store(0, Ordering::Release);
            s.msg.store(std::ptr::null_mut(), Ordering::Release);
            s.used.store(false, Ordering::Release);
        }
    }
}

#[cfg(unix)]
fn install_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
        // value; the handler only reads atomics and calls write(2) and
        // _exit(2), both async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

#[cfg(not(unix))]
fn install_handler() {}

#[cfg(unix)]
extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    for s in &SLOTS_IN_USE {
        let (start, len) = (
            s.start.load(Ordering::Acquire),
            s.len.load(Ordering::Acquire),
        );
        if len == 0 || addr < start || addr - start >= len {
            continue;
        }
        let (msg, msg_len) = (
            s.msg.load(Ordering::Acquire),
            s.msg_len.load(Ordering::Acquire),
        );
        // SAFETY: the message outlives the registration (it is freed only
        // after the slot is cleared, and the faulting read holds the map).
        unsafe {
            if !msg.is_null() {
                libc::write(2, msg.cast(), msg_len);
            }
            libc::_exit(2);
        }
    }
    // Not a mapped input: the default action (the fault happens again once
    // this returns).
    // SAFETY: resetting a signal's disposition is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::{Read, Seek, SeekFrom};

    use super::*;

    const CHUNK: usize = 512 * 1024;

    fn mapped(chunks: usize) -> (tempfile::NamedTempFile, FileMap) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), vec![b'x'; chunks * CHUNK]).unwrap();
        let f = std::fs::File::open(file.path()).unwrap();
        // SAFETY: a private temporary file nobody else writes.
        let map = unsafe { memmap2::Mmap::map(&f) }.unwrap();
        // A huge page mapped at once is also unmapped whole by a release
        // of part of it (harmless: read again, it faults back in), which
        // would blur what this test looks at page by page.
        map.advise(memmap2::Advice::NoHugePage).unwrap();
        let mut map = FileMap::new(map, "test");
        // Each release lets go at once, to be seen page by page.
        map.release_at_once = 0;
        (file, map)
    }

    fn touch(map: &FileMap, range: Range<usize>) -> u64 {
        range
            .step_by(page_size())
            .map(|i| u64::from(std::hint::black_box(map[i])))
            .sum()
    }

    /// Whether the page holding byte `at` is mapped into this process
    /// (bit 63 of its `/proc/self/pagemap` entry).
    fn mapped_in(map: &FileMap, at: usize) -> bool {
        let page = (map.as_ptr() as usize + at) / page_size();
        let mut f = std::fs::File::open("/proc/self/pagemap").unwrap();
        f.seek(SeekFrom::Start(page as u64 * 8)).unwrap();
        let mut entry = [0u8; 8];
        f.read_exact(&mut entry).unwrap();
        u64::from_le_bytes(entry) >> 63 == 1
    }

    #[test]
    fn releasing_a_chunk_unmaps_what_a_neighbour_mapped_back_but_not_held_chunks() {
        let (_file, map) = mapped(8);
        let chunk = |i: usize| i * CHUNK..(i + 1) * CHUNK;
        for i in 0..8 {
            map.hold(&chunk(i));
        }
        touch(&map, 0..4 * CHUNK);
        map.release(&chunk(0));
        assert!(!mapped_in(&map, 0) && !mapped_in(&map, CHUNK - 1));
        // A fault while reading chunk 1 may map a block reaching back into
        // chunk 0, released already (recent kernels map whole folios).
        touch(&map, CHUNK - 4096..CHUNK);
        assert!(mapped_in(&map, CHUNK - 1));
        map.release(&chunk(2));
        assert!(
            mapped_in(&map, CHUNK - 1),
            "the gap of chunk 2 stops at chunk 1, held"
        );
        assert!(mapped_in(&map, CHUNK + 1) && mapped_in(&map, 3 * CHUNK));
        assert!(!mapped_in(&map, 2 * CHUNK));
        map.release(&chunk(1));
        // The gap below chunk 3 reaches back over chunks 0 to 2.
        for at in [0, CHUNK - 1, CHUNK, 2 * CHUNK - 1, 2 * CHUNK] {
            assert!(!mapped_in(&map, at), "byte {at} still mapped");
        }
        assert!(mapped_in(&map, 3 * CHUNK), "chunk 3 is held");
    }

    #[test]
    fn released_chunks_are_let_go_of_together() {
        let (_file, mut map) = mapped(8);
        map.release_at_once = 3 * CHUNK;
        let chunk = |i: usize| i * CHUNK..(i + 1) * CHUNK;
        for i in 0..8 {
            map.hold(&chunk(i));
        }
        touch(&map, 0..8 * CHUNK);
        map.release(&chunk(0));
        map.release(&chunk(1));
        assert!(mapped_in(&map, 0) && mapped_in(&map, CHUNK), "not yet");
        // Chunk 2 brings the gap (chunks 0 to 2) to three chunks.
        map.release(&chunk(2));
        for at in [0, CHUNK, 3 * CHUNK - 1] {
            assert!(!mapped_in(&map, at), "byte {at} still mapped");
        }
        assert!(mapped_in(&map, 3 * CHUNK), "chunk 3 is held");
        // A gap apart from the pending one lets that one go.
        map.release(&chunk(4));
        assert!(mapped_in(&map, 4 * CHUNK));
        map.release(&chunk(6));
        assert!(!mapped_in(&map, 4 * CHUNK) && mapped_in(&map, 6 * CHUNK));
    }
}
