//! virtio console (virtio 1.x section 5.3) as QEMU's `virtio-serial-device`: the
//! multiport form with a control queue pair, and console ports (`virtconsole`, Linux's
//! `hvc0`, `hvc1`, ...) whose guest output goes to a host sink (standard output, a
//! file, nothing). Host-to-guest input is not implemented: the receive queues stay
//! empty.
//!
//! Queues: port 0 receive (0) and transmit (1), control receive (2) and transmit (3),
//! then port n receive (2n + 2) and transmit (2n + 3). Control messages are
//! `id: u32, event: u16, value: u16`. Linux sends DEVICE_READY; the device answers
//! DEVICE_ADD for each port; the driver sends PORT_READY per port; the device answers
//! CONSOLE_PORT (and PORT_NAME with a name) and PORT_OPEN.

use crate::mmio::{DeviceContext, VirtioDevice};
use crate::Error;
use std::collections::VecDeque;
use std::io::Write;
use virtio_bindings::virtio_ids::VIRTIO_ID_CONSOLE;

/// Feature bits (section 5.3.3).
pub const F_SIZE: u32 = 0;
pub const F_MULTIPORT: u32 = 1;
pub const F_EMERG_WRITE: u32 = 2;

/// Control events (section 5.3.6.2).
pub mod event {
    pub const DEVICE_READY: u16 = 0;
    pub const DEVICE_ADD: u16 = 1;
    pub const DEVICE_REMOVE: u16 = 2;
    pub const PORT_READY: u16 = 3;
    pub const CONSOLE_PORT: u16 = 4;
    pub const RESIZE: u16 = 5;
    pub const PORT_OPEN: u16 = 6;
    pub const PORT_NAME: u16 = 7;
}

/// Ports the device has room for (QEMU's default `max_ports`).
pub const MAX_PORTS: u32 = 31;
/// QueueNumMax of every queue.
pub const QUEUE_SIZE: u16 = 128;
const CONTROL_RX: usize = 2;
const CONTROL_TX: usize = 3;
/// Longest control message the driver may send that we read (header + a name).
const CONTROL_MAX: usize = 8 + 256;

/// Where a port's output goes.
pub type Sink = Box<dyn Write + Send>;

/// A console port as configured.
pub struct PortSpec {
    /// Port number (0 is the first console, as QEMU numbers `virtconsole`s).
    pub nr: u32,
    pub name: Option<String>,
    pub sink: Sink,
}

/// The device.
pub struct Console {
    ports: Vec<PortSpec>,
    ctx: Option<DeviceContext>,
    /// Control messages waiting for a buffer in the control receive queue.
    pending: VecDeque<Vec<u8>>,
}

fn control(id: u32, ev: u16, value: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(8);
    m.extend_from_slice(&id.to_le_bytes());
    m.extend_from_slice(&ev.to_le_bytes());
    m.extend_from_slice(&value.to_le_bytes());
    m
}

/// The port number whose transmit queue is `q`.
fn tx_port(q: usize) -> Option<u32> {
    match q {
        1 => Some(0),
        q if q >= 5 && q % 2 == 1 => Some(((q - 3) / 2) as u32),
        _ => None,
    }
}

impl Console {
    pub fn new(ports: Vec<PortSpec>) -> Console {
        Console {
            ports,
            ctx: None,
            pending: VecDeque::new(),
        }
    }

    fn send(&mut self, msg: Vec<u8>) {
        self.pending.push_back(msg);
        self.flush_control();
    }

    fn flush_control(&mut self) {
        let Some(ctx) = &self.ctx else {
            return;
        };
        while let Some(m) = self.pending.front() {
            if !ctx.push(CONTROL_RX, m) {
                break;
            }
            self.pending.pop_front();
        }
    }

    fn control_message(&mut self, msg: &[u8]) {
        let id = u32::from_le_bytes([msg[0], msg[1], msg[2], msg[3]]);
        let ev = u16::from_le_bytes([msg[4], msg[5]]);
        let value = u16::from_le_bytes([msg[6], msg[7]]);
        match ev {
            event::DEVICE_READY if value == 1 => {
                let ids: Vec<u32> = self.ports.iter().map(|p| p.nr).collect();
                for id in ids {
                    self.send(control(id, event::DEVICE_ADD, 1));
                }
            }
            event::DEVICE_READY => {
                if let Some(c) = &self.ctx {
                    c.irq
                        .guest_error("the driver could not set up the console device");
                }
            }
            event::PORT_READY if value == 1 => {
                let Some(p) = self.ports.iter().find(|p| p.nr == id) else {
                    if let Some(c) = &self.ctx {
                        c.irq
                            .guest_error(&format!("PORT_READY for unknown port {id}"));
                    }
                    return;
                };
                let name = p.name.clone();
                self.send(control(id, event::CONSOLE_PORT, 1));
                if let Some(n) = name {
                    let mut m = control(id, event::PORT_NAME, 1);
                    m.extend_from_slice(n.as_bytes());
                    m.push(0);
                    self.send(m);
                }
                self.send(control(id, event::PORT_OPEN, 1));
            }
            // The guest opening or closing a port, or giving up on one: nothing to do.
            _ => {}
        }
    }

    fn transmit(&mut self, q: usize, port: u32) {
        let Some(ctx) = &self.ctx else {
            return;
        };
        let sink = self
            .ports
            .iter_mut()
            .find(|p| p.nr == port)
            .map(|p| &mut p.sink);
        let mut out = Vec::new();
        ctx.process_queue(q, |mem, chain| {
            for d in chain.readable() {
                let start = out.len();
                out.resize(start + d.len as usize, 0);
                crate::mem::read(mem, d.addr, &mut out[start..])?;
            }
            Ok(0)
        });
        if let Some(s) = sink {
            // Output that cannot be written (a closed pipe) is dropped, as a UART's.
            let _ = s.write_all(&out);
            let _ = s.flush();
        }
    }
}

impl VirtioDevice for Console {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_CONSOLE
    }

    fn features(&self) -> u64 {
        1 << F_MULTIPORT
    }

    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![QUEUE_SIZE; 2 * (MAX_PORTS as usize + 1)]
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        // cols, rows (no F_SIZE), max_nr_ports, emerg_wr.
        let mut c = [0u8; 12];
        c[4..8].copy_from_slice(&MAX_PORTS.to_le_bytes());
        crate::mmio::read_config_bytes(&c, offset, data);
    }

    fn activate(&mut self, ctx: DeviceContext) {
        self.ctx = Some(ctx);
    }

    fn notify(&mut self, queue: usize) {
        let Some(ctx) = self.ctx.clone() else {
            return;
        };
        match queue {
            CONTROL_TX => {
                let mut msgs = Vec::new();
                ctx.process_queue(CONTROL_TX, |mem, chain| {
                    let len = chain.readable_len();
                    if len < 8 {
                        return Err(Error::BadRequest(format!("control message of {len} bytes")));
                    }
                    let mut m = vec![0u8; (len as usize).min(CONTROL_MAX)];
                    let mut at = 0;
                    for d in chain.readable() {
                        if at == m.len() {
                            break;
                        }
                        let n = (d.len as usize).min(m.len() - at);
                        crate::mem::read(mem, d.addr, &mut m[at..at + n])?;
                        at += n;
                    }
                    msgs.push(m);
                    Ok(0)
                });
                for m in msgs {
                    self.control_message(&m);
                }
            }
            CONTROL_RX => self.flush_control(),
            q => {
                if let Some(p) = tx_port(q) {
                    self.transmit(q, p);
                }
                // A receive queue got buffers: there is no input to give.
            }
        }
    }

    fn reset(&mut self) {
        self.ctx = None;
        self.pending.clear();
    }
}

/// A sink that writes nowhere.
pub fn null_sink() -> Sink {
    Box::new(std::io::sink())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmio::Interrupt;
    use crate::queue::tests::{put_desc, ram, DATA, RAM};
    use crate::queue::Queue;
    use softmmu::{PhysAddr, PhysMap};
    use std::sync::{Arc, Mutex};

    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn base(q: usize) -> u64 {
        RAM + 0x2_0000 + q as u64 * 0x4000
    }

    /// A driver's view of queue `q`: rings at `base(q)`, size 8, `avail` chains posted.
    struct Drv {
        avail: [u16; 4],
    }

    impl Drv {
        /// Posts a one-descriptor chain of `len` bytes at `addr` on queue `q`.
        fn post(&mut self, m: &PhysMap, q: usize, addr: u64, len: u32, write: bool) {
            let b = base(q);
            let i = self.avail[q];
            put_desc(m, b, i % 8, addr, len, if write { 2 } else { 0 }, 0);
            m.write_bytes(
                PhysAddr(b + 0x1000 + 4 + 2 * u64::from(i % 8)),
                &(i % 8).to_le_bytes(),
            )
            .unwrap();
            self.avail[q] = i + 1;
            m.write_bytes(PhysAddr(b + 0x1000 + 2), &self.avail[q].to_le_bytes())
                .unwrap();
        }
    }

    fn used(m: &PhysMap, q: usize) -> Vec<(u32, u32)> {
        let b = base(q) + 0x2000;
        let mut idx = [0u8; 2];
        m.read_bytes(PhysAddr(b + 2), &mut idx).unwrap();
        (0..u16::from_le_bytes(idx))
            .map(|k| {
                let mut e = [0u8; 8];
                m.read_bytes(PhysAddr(b + 4 + 8 * u64::from(k % 8)), &mut e)
                    .unwrap();
                (
                    u32::from_le_bytes(e[..4].try_into().unwrap()),
                    u32::from_le_bytes(e[4..].try_into().unwrap()),
                )
            })
            .collect()
    }

    #[test]
    fn multiport_handshake_and_output() {
        let mem = Arc::new(ram());
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut dev = Console::new(vec![PortSpec {
            nr: 0,
            name: Some("org.test".into()),
            sink: Box::new(Shared(out.clone())),
        }]);
        let queues: Vec<_> = dev
            .queue_max_sizes()
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let mut q = Queue::new(n);
                if i < 4 {
                    q.size = 8;
                    q.desc_table = base(i);
                    q.avail_ring = base(i) + 0x1000;
                    q.used_ring = base(i) + 0x2000;
                    q.ready = true;
                    q.validate(&mem).unwrap();
                }
                Arc::new(Mutex::new(q))
            })
            .collect();
        assert_eq!(queues.len(), 64);
        let irq = Arc::new(Interrupt::new(
            "console",
            Box::new(|_| {}),
            crate::quiet_logger(),
        ));
        dev.activate(DeviceContext {
            mem: Arc::downgrade(&mem),
            queues,
            irq: irq.clone(),
            features: 1 << 32 | 1 << F_MULTIPORT,
        });
        let mut d = Drv { avail: [0; 4] };
        // DEVICE_READY before any control receive buffer: DEVICE_ADD waits for one.
        mem.write_bytes(PhysAddr(DATA), &control(0, event::DEVICE_READY, 1))
            .unwrap();
        d.post(&mem, CONTROL_TX, DATA, 8, false);
        dev.notify(CONTROL_TX);
        assert_eq!(used(&mem, CONTROL_TX), [(0, 0)]);
        for k in 0..4 {
            d.post(&mem, CONTROL_RX, DATA + 0x100 * (k + 1), 64, true);
        }
        dev.notify(CONTROL_RX);
        let msg = |k: u64, len: usize| {
            let mut b = vec![0u8; len];
            mem.read_bytes(PhysAddr(DATA + 0x100 * (k + 1)), &mut b)
                .unwrap();
            b
        };
        assert_eq!(used(&mem, CONTROL_RX), [(0, 8)]);
        assert_eq!(msg(0, 8), control(0, event::DEVICE_ADD, 1));
        // PORT_READY: CONSOLE_PORT, PORT_NAME, PORT_OPEN.
        mem.write_bytes(PhysAddr(DATA), &control(0, event::PORT_READY, 1))
            .unwrap();
        d.post(&mem, CONTROL_TX, DATA, 8, false);
        dev.notify(CONTROL_TX);
        assert_eq!(msg(1, 8), control(0, event::CONSOLE_PORT, 1));
        assert_eq!(&msg(2, 17)[8..], b"org.test\0");
        assert_eq!(msg(3, 8), control(0, event::PORT_OPEN, 1));
        // Output on port 0's transmit queue reaches the sink.
        mem.write_bytes(PhysAddr(DATA + 0x800), b"hello hvc0\n")
            .unwrap();
        d.post(&mem, 1, DATA + 0x800, 11, false);
        dev.notify(1);
        assert_eq!(&out.lock().unwrap()[..], b"hello hvc0\n");
        assert_eq!(irq.status() & 1, 1, "used-buffer interrupt");
        // A short control message is a device error.
        d.post(&mem, CONTROL_TX, DATA, 4, false);
        dev.notify(CONTROL_TX);
        assert!(irq.needs_reset());
    }
}
