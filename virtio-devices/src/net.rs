//! virtio-net (virtio 1.x section 5.1) on QEMU's user-mode network stack, libslirp
//! (Debian's `libslirp-dev`, through the `libslirp-sys` bindings): the guest is
//! 10.0.2.15 by DHCP, the gateway (the host) 10.0.2.2, DNS 10.0.2.3; outgoing TCP and UDP
//! become host sockets; `hostfwd` rules forward host ports into the guest.
//!
//! One receive queue (0) and one transmit queue (1); every frame carries the 12-byte
//! `virtio_net_hdr` of VERSION_1 (no offloads negotiated, so it is all zero but
//! `num_buffers` = 1 on receive). Features: MAC and STATUS (link up).
//!
//! libslirp is single-threaded: one thread per `-netdev` owns it and polls its sockets,
//! takes the guest's frames from a channel (woken through a pipe) and puts the frames
//! libslirp emits into the receive queue, keeping up to [`RX_BACKLOG`] while the guest
//! has no buffer posted. The network outlives a board (a reboot keeps forwarded ports).

use crate::mmio::{DeviceContext, VirtioDevice};
use crate::{Error, Logger, Result};
use crossbeam_channel::{Receiver, Sender};
use libslirp_sys as sys;
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use virtio_bindings::virtio_ids::VIRTIO_ID_NET;

/// Feature bits (section 5.1.3).
pub const F_MAC: u32 = 5;
pub const F_STATUS: u32 = 16;
/// `virtio_net_config.status`: link up.
const STATUS_LINK_UP: u16 = 1;
/// `struct virtio_net_hdr` with VERSION_1 (`num_buffers` included).
pub const HDR_LEN: usize = 12;
const HDR_NUM_BUFFERS: usize = 10;
pub const QUEUE_SIZE: u16 = 256;
const RX_QUEUE: usize = 0;
const TX_QUEUE: usize = 1;
/// Frames kept for the guest while it has no receive buffer (more are dropped, as a
/// full NIC would).
pub const RX_BACKLOG: usize = 256;
/// Largest frame accepted from the guest (no GSO negotiated: MTU 1500 + header).
const MAX_FRAME: usize = 65_536;
/// QEMU's first NIC's MAC address.
pub const DEFAULT_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// One `hostfwd` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFwd {
    pub udp: bool,
    pub host_addr: Ipv4Addr,
    pub host_port: u16,
    pub guest_addr: Ipv4Addr,
    pub guest_port: u16,
}

impl HostFwd {
    /// QEMU's `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`.
    pub fn parse(s: &str) -> Result<HostFwd> {
        let bad = || {
            Error::Config(format!(
                "hostfwd={s}: expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"
            ))
        };
        let (proto, rest) = s.split_once(':').ok_or_else(bad)?;
        let udp = match proto {
            "" | "tcp" => false,
            "udp" => true,
            _ => return Err(bad()),
        };
        let (host, guest) = rest.split_once('-').ok_or_else(bad)?;
        let (ha, hp) = host.split_once(':').ok_or_else(bad)?;
        let (ga, gp) = guest.split_once(':').ok_or_else(bad)?;
        let addr = |a: &str, default: Ipv4Addr| -> Result<Ipv4Addr> {
            if a.is_empty() {
                Ok(default)
            } else {
                a.parse().map_err(|_| bad())
            }
        };
        Ok(HostFwd {
            udp,
            host_addr: addr(ha, Ipv4Addr::UNSPECIFIED)?,
            host_port: hp.parse().map_err(|_| bad())?,
            guest_addr: addr(ga, Ipv4Addr::new(10, 0, 2, 15))?,
            guest_port: gp.parse().map_err(|_| bad())?,
        })
    }
}

/// What the receive side shares between the device and the network thread.
#[derive(Default)]
struct RxSide {
    ctx: Option<DeviceContext>,
    pending: VecDeque<Vec<u8>>,
}

impl RxSide {
    /// Moves backlog frames into posted receive buffers.
    fn flush(&mut self) {
        let Some(ctx) = &self.ctx else {
            self.pending.clear();
            return;
        };
        while let Some(f) = self.pending.front() {
            if !ctx.push(RX_QUEUE, f) {
                break;
            }
            self.pending.pop_front();
        }
    }
}

fn lock_rx(rx: &Mutex<RxSide>) -> MutexGuard<'_, RxSide> {
    rx.lock().unwrap_or_else(|e| e.into_inner())
}

enum Cmd {
    Frame(Vec<u8>),
    RxReady,
}

/// A user-mode network (`-netdev user`): its thread, and the way to it.
pub struct UserNet {
    tx: Sender<Cmd>,
    wake: OwnedFd,
    rx: Arc<Mutex<RxSide>>,
}

impl UserNet {
    /// Starts the network thread; fails if libslirp cannot start or a forwarded port
    /// cannot be bound.
    pub fn start(hostfwd: &[HostFwd], log: Logger) -> Result<Arc<UserNet>> {
        let mut fds = [0 as c_int; 2];
        // SAFETY: pipe2 writes two descriptors into the array it is given.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(Error::Io {
                what: "user network: pipe".into(),
                err: std::io::Error::last_os_error(),
            });
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let (tx, cmds) = crossbeam_channel::unbounded();
        let rx = Arc::new(Mutex::new(RxSide::default()));
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let rx2 = rx.clone();
        let fwd = hostfwd.to_vec();
        std::thread::Builder::new()
            .name("slirp".into())
            .spawn(move || net_thread(r, cmds, rx2, fwd, log, ready_tx))
            .map_err(|err| Error::Io {
                what: "user network: thread".into(),
                err,
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Arc::new(UserNet { tx, wake: w, rx })),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Config("user network: the thread ended".into())),
        }
    }

    fn send(&self, c: Cmd) {
        if self.tx.send(c).is_ok() {
            // SAFETY: a one-byte write from a live buffer to a descriptor we own; a full
            // pipe (EAGAIN) already means the thread will wake.
            let _ = unsafe { libc::write(self.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        }
    }
}

/// A libslirp timer (only the IPv6 router advertisements use one; kept general).
struct Timer {
    cb: sys::SlirpTimerCb,
    cb_opaque: *mut c_void,
    /// Expiry in milliseconds of the backend clock.
    expire: Option<i64>,
}

/// The network thread's state; libslirp's `opaque` points at it.
struct Backend {
    slirp: *mut sys::Slirp,
    pollfds: Vec<libc::pollfd>,
    timers: Vec<*mut Timer>,
    rx: Arc<Mutex<RxSide>>,
    start: Instant,
    log: Logger,
}

/// libslirp's callbacks, with the two fields its 4.7 header adds (unused with config
/// version 3, present so the struct is the size the library may expect).
#[repr(C)]
struct Callbacks {
    base: sys::SlirpCb,
    init_completed: *const c_void,
    timer_new_opaque: *const c_void,
}

fn backend<'a>(opaque: *mut c_void) -> &'a mut Backend {
    // SAFETY: every callback gets the `opaque` given to slirp_new / pollfds_*, a
    // pointer to the thread's Backend, which outlives the Slirp instance; callbacks
    // run on that thread only, inside calls that do not otherwise touch the Backend.
    unsafe { &mut *opaque.cast::<Backend>() }
}

unsafe extern "C" fn cb_send_packet(buf: *const c_void, len: usize, opaque: *mut c_void) -> isize {
    let b = backend(opaque);
    let mut frame = vec![0u8; HDR_LEN + len];
    frame[HDR_NUM_BUFFERS] = 1;
    // SAFETY: libslirp passes `len` readable bytes at `buf`.
    frame[HDR_LEN..].copy_from_slice(unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) });
    let mut rx = lock_rx(&b.rx);
    if rx.ctx.is_some() && rx.pending.len() < RX_BACKLOG {
        rx.pending.push_back(frame);
        rx.flush();
    }
    len as isize
}

unsafe extern "C" fn cb_guest_error(msg: *const c_char, opaque: *mut c_void) {
    // SAFETY: libslirp passes a NUL-terminated message.
    let m = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    (backend(opaque).log)(&format!("user network: {m}"));
}

unsafe extern "C" fn cb_clock_get_ns(opaque: *mut c_void) -> i64 {
    backend(opaque).start.elapsed().as_nanos() as i64
}

unsafe extern "C" fn cb_timer_new(
    cb: sys::SlirpTimerCb,
    cb_opaque: *mut c_void,
    opaque: *mut c_void,
) -> *mut c_void {
    let t = Box::into_raw(Box::new(Timer {
        cb,
        cb_opaque,
        expire: None,
    }));
    backend(opaque).timers.push(t);
    t.cast()
}

unsafe extern "C" fn cb_timer_free(timer: *mut c_void, opaque: *mut c_void) {
    let b = backend(opaque);
    let t = timer.cast::<Timer>();
    if let Some(i) = b.timers.iter().position(|&x| x == t) {
        b.timers.swap_remove(i);
        // SAFETY: created by Box::into_raw in cb_timer_new and freed once.
        drop(unsafe { Box::from_raw(t) });
    }
}

unsafe extern "C" fn cb_timer_mod(timer: *mut c_void, expire: i64, opaque: *mut c_void) {
    let b = backend(opaque);
    let t = timer.cast::<Timer>();
    if b.timers.contains(&t) {
        // SAFETY: a live timer of this backend (checked above).
        unsafe { (*t).expire = Some(expire) };
    }
}

unsafe extern "C" fn cb_poll_fd(_fd: c_int, _opaque: *mut c_void) {}

unsafe extern "C" fn cb_notify(_opaque: *mut c_void) {}

unsafe extern "C" fn cb_add_poll(fd: c_int, events: c_int, opaque: *mut c_void) -> c_int {
    let b = backend(opaque);
    let mut ev = 0;
    if events & sys::SLIRP_POLL_IN != 0 {
        ev |= libc::POLLIN;
    }
    if events & sys::SLIRP_POLL_OUT != 0 {
        ev |= libc::POLLOUT;
    }
    if events & sys::SLIRP_POLL_PRI != 0 {
        ev |= libc::POLLPRI;
    }
    b.pollfds.push(libc::pollfd {
        fd,
        events: ev,
        revents: 0,
    });
    (b.pollfds.len() - 1) as c_int
}

unsafe extern "C" fn cb_get_revents(idx: c_int, opaque: *mut c_void) -> c_int {
    let b = backend(opaque);
    let Some(p) = usize::try_from(idx).ok().and_then(|i| b.pollfds.get(i)) else {
        return 0;
    };
    let mut r = 0;
    if p.revents & libc::POLLIN != 0 {
        r |= sys::SLIRP_POLL_IN;
    }
    if p.revents & libc::POLLOUT != 0 {
        r |= sys::SLIRP_POLL_OUT;
    }
    if p.revents & libc::POLLPRI != 0 {
        r |= sys::SLIRP_POLL_PRI;
    }
    if p.revents & libc::POLLERR != 0 {
        r |= sys::SLIRP_POLL_ERR;
    }
    if p.revents & libc::POLLHUP != 0 {
        r |= sys::SLIRP_POLL_HUP;
    }
    r
}

fn net_thread(
    wake: OwnedFd,
    cmds: Receiver<Cmd>,
    rx: Arc<Mutex<RxSide>>,
    hostfwd: Vec<HostFwd>,
    log: Logger,
    ready: Sender<Result<()>>,
) {
    let cbs = Callbacks {
        base: sys::SlirpCb {
            send_packet: Some(cb_send_packet),
            guest_error: Some(cb_guest_error),
            clock_get_ns: Some(cb_clock_get_ns),
            timer_new: Some(cb_timer_new),
            timer_free: Some(cb_timer_free),
            timer_mod: Some(cb_timer_mod),
            register_poll_fd: Some(cb_poll_fd),
            unregister_poll_fd: Some(cb_poll_fd),
            notify: Some(cb_notify),
        },
        init_completed: std::ptr::null(),
        timer_new_opaque: std::ptr::null(),
    };
    let ip = |a, b, c, d| sys::in_addr::from(Ipv4Addr::new(a, b, c, d));
    let cfg = sys::SlirpConfig {
        version: 3,
        restricted: 0,
        in_enabled: true,
        vnetwork: ip(10, 0, 2, 0),
        vnetmask: ip(255, 255, 255, 0),
        vhost: ip(10, 0, 2, 2),
        in6_enabled: false,
        vprefix_addr6: sys::in6_addr { s6_addr: [0; 16] },
        vprefix_len: 0,
        vhost6: sys::in6_addr { s6_addr: [0; 16] },
        vhostname: std::ptr::null(),
        tftp_server_name: std::ptr::null(),
        tftp_path: std::ptr::null(),
        bootfile: std::ptr::null(),
        vdhcp_start: ip(10, 0, 2, 15),
        vnameserver: ip(10, 0, 2, 3),
        vnameserver6: sys::in6_addr { s6_addr: [0; 16] },
        vdnssearch: std::ptr::null_mut(),
        vdomainname: std::ptr::null(),
        if_mtu: 0,
        if_mru: 0,
        disable_host_loopback: false,
        enable_emu: false,
        outbound_addr: std::ptr::null(),
        outbound_addr6: std::ptr::null(),
        disable_dns: false,
        disable_dhcp: false,
    };
    // Owned through this raw pointer (freed at the end); every access goes through
    // `backend(opaque)`, from here and from the callbacks alike.
    let opaque: *mut c_void = Box::into_raw(Box::new(Backend {
        slirp: std::ptr::null_mut(),
        pollfds: Vec::new(),
        timers: Vec::new(),
        rx,
        start: Instant::now(),
        log,
    }))
    .cast();
    let free = |opaque: *mut c_void| {
        // SAFETY: the Box leaked above, freed once, after the Slirp instance is gone.
        let b = unsafe { Box::from_raw(opaque.cast::<Backend>()) };
        for &t in &b.timers {
            // SAFETY: timers libslirp did not free.
            drop(unsafe { Box::from_raw(t) });
        }
    };
    // SAFETY: the config and callbacks live on this stack frame for the whole life of
    // the instance (cleaned up before returning); `opaque` points at the boxed Backend.
    let slirp = unsafe { sys::slirp_new(&cfg, &cbs.base, opaque) };
    if slirp.is_null() {
        free(opaque);
        let _ = ready.send(Err(Error::Config(
            "user network: libslirp did not start".into(),
        )));
        return;
    }
    backend(opaque).slirp = slirp;
    for f in &hostfwd {
        // SAFETY: a live instance; plain values.
        let r = unsafe {
            sys::slirp_add_hostfwd(
                slirp,
                c_int::from(f.udp),
                f.host_addr.into(),
                c_int::from(f.host_port),
                f.guest_addr.into(),
                c_int::from(f.guest_port),
            )
        };
        if r < 0 {
            let _ = ready.send(Err(Error::Config(format!(
                "hostfwd {}:{}:{}-{}:{}: could not set up host forwarding rule (port in use?)",
                if f.udp { "udp" } else { "tcp" },
                f.host_addr,
                f.host_port,
                f.guest_addr,
                f.guest_port
            ))));
            // SAFETY: the live instance, not used after this.
            unsafe { sys::slirp_cleanup(slirp) };
            free(opaque);
            return;
        }
    }
    let _ = ready.send(Ok(()));
    let mut drain = [0u8; 64];
    'run: loop {
        let b = backend(opaque);
        b.pollfds.clear();
        b.pollfds.push(libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        let mut timeout: u32 = 1000;
        // SAFETY: a live instance; the callback gets our opaque.
        unsafe { sys::slirp_pollfds_fill(slirp, &mut timeout, Some(cb_add_poll), opaque) };
        let now_ms = b.start.elapsed().as_millis() as i64;
        for &t in &b.timers {
            // SAFETY: live timers of this backend.
            if let Some(e) = unsafe { (*t).expire } {
                timeout = timeout.min((e - now_ms).clamp(0, 1000) as u32);
            }
        }
        // SAFETY: the pollfd array is valid for its length.
        let n = unsafe {
            libc::poll(
                b.pollfds.as_mut_ptr(),
                b.pollfds.len() as libc::nfds_t,
                timeout as c_int,
            )
        };
        // SAFETY: as above.
        unsafe { sys::slirp_pollfds_poll(slirp, c_int::from(n < 0), Some(cb_get_revents), opaque) };
        let b = backend(opaque);
        let now_ms = b.start.elapsed().as_millis() as i64;
        let due: Vec<*mut Timer> = b
            .timers
            .iter()
            .copied()
            // SAFETY: live timers of this backend.
            .filter(|&t| unsafe { (*t).expire }.is_some_and(|e| e <= now_ms))
            .collect();
        for t in due {
            if !backend(opaque).timers.contains(&t) {
                continue;
            }
            // SAFETY: a live timer; its callback may free or re-arm timers (handled
            // by the checks above and in the callbacks).
            unsafe {
                (*t).expire = None;
                if let Some(cb) = (*t).cb {
                    cb((*t).cb_opaque);
                }
            }
        }
        let b = backend(opaque);
        if b.pollfds.first().is_some_and(|p| p.revents != 0) {
            // SAFETY: reading into a live buffer from our own non-blocking pipe.
            while unsafe { libc::read(wake.as_raw_fd(), drain.as_mut_ptr().cast(), drain.len()) }
                > 0
            {}
        }
        loop {
            match cmds.try_recv() {
                Ok(Cmd::Frame(f)) => {
                    // SAFETY: a live instance; `f` is readable for its length.
                    unsafe { sys::slirp_input(slirp, f.as_ptr(), f.len() as c_int) };
                }
                Ok(Cmd::RxReady) => lock_rx(&backend(opaque).rx).flush(),
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => break 'run,
            }
        }
    }
    // SAFETY: the live instance, not used after this; it frees its timers through
    // our callbacks.
    unsafe { sys::slirp_cleanup(slirp) };
    free(opaque);
}

/// The network device.
pub struct Net {
    net: Arc<UserNet>,
    mac: [u8; 6],
    ctx: Option<DeviceContext>,
}

impl Net {
    pub fn new(net: Arc<UserNet>, mac: [u8; 6]) -> Net {
        Net {
            net,
            mac,
            ctx: None,
        }
    }
}

impl VirtioDevice for Net {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_NET
    }

    fn features(&self) -> u64 {
        1 << F_MAC | 1 << F_STATUS
    }

    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![QUEUE_SIZE, QUEUE_SIZE]
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let mut c = [0u8; 8];
        c[..6].copy_from_slice(&self.mac);
        c[6..].copy_from_slice(&STATUS_LINK_UP.to_le_bytes());
        crate::mmio::read_config_bytes(&c, offset, data);
    }

    fn activate(&mut self, ctx: DeviceContext) {
        let mut rx = lock_rx(&self.net.rx);
        rx.ctx = Some(ctx.clone());
        rx.pending.clear();
        drop(rx);
        self.ctx = Some(ctx);
    }

    fn notify(&mut self, queue: usize) {
        let Some(ctx) = &self.ctx else {
            return;
        };
        match queue {
            TX_QUEUE => {
                let net = &self.net;
                ctx.process_queue(TX_QUEUE, |mem, chain| {
                    let len = chain.readable_len();
                    if len < HDR_LEN as u64 || len > (HDR_LEN + MAX_FRAME) as u64 {
                        return Err(Error::BadRequest(format!("transmit buffer of {len} bytes")));
                    }
                    let mut pkt = vec![0u8; len as usize];
                    let mut at = 0;
                    for d in chain.readable() {
                        crate::mem::read(mem, d.addr, &mut pkt[at..at + d.len as usize])?;
                        at += d.len as usize;
                    }
                    pkt.drain(..HDR_LEN);
                    net.send(Cmd::Frame(pkt));
                    Ok(0)
                });
            }
            RX_QUEUE => self.net.send(Cmd::RxReady),
            _ => {}
        }
    }

    fn reset(&mut self) {
        let mut rx = lock_rx(&self.net.rx);
        rx.ctx = None;
        rx.pending.clear();
        self.ctx = None;
    }
}

/// Parses a MAC address `xx:xx:xx:xx:xx:xx`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostfwd_and_mac_parse_like_qemu() {
        assert_eq!(
            HostFwd::parse("tcp::5555-:22").unwrap(),
            HostFwd {
                udp: false,
                host_addr: Ipv4Addr::UNSPECIFIED,
                host_port: 5555,
                guest_addr: Ipv4Addr::new(10, 0, 2, 15),
                guest_port: 22
            }
        );
        let u = HostFwd::parse("udp:127.0.0.1:53-10.0.2.20:5353").unwrap();
        assert!(u.udp && u.host_addr == Ipv4Addr::LOCALHOST && u.guest_port == 5353);
        for bad in [
            "tcp:5555-:22",
            "sctp::1-:2",
            "tcp::x-:2",
            "tcp::1:2",
            "tcp::70000-:1",
        ] {
            assert!(HostFwd::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_mac("52:54:00:12:34:57"),
            Some([0x52, 0x54, 0, 0x12, 0x34, 0x57])
        );
        assert_eq!(parse_mac("52:54:00:12:34"), None);
        assert_eq!(parse_mac("52:54:00:12:34:5g"), None);
    }

    #[test]
    fn user_network_starts_and_refuses_a_busy_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let busy = HostFwd::parse(&format!("tcp:127.0.0.1:{port}-:80")).unwrap();
        assert!(UserNet::start(&[busy], crate::quiet_logger()).is_err());
        assert!(UserNet::start(&[], crate::quiet_logger()).is_ok());
    }
}
