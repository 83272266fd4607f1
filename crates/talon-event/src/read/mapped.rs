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

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

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
}

impl FileMap {
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
