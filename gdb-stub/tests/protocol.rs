//! The stub at the protocol level, with a raw client (no gdb needed): registers, memory,
//! errors for unmapped memory, garbage and a client vanishing mid-packet (the machine runs
//! on and the next connection is served), Ctrl-C, a step, and kill.

use arm_cpu::{ArmCpu, CpuConfig, Platform};
use gdb_stub::{GdbServer, MachineSlot};
use softmmu::{PhysAddr, PhysMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vcpu_sched::{CpuAction, Debugger, Sched, SchedMode};

struct Off;

impl Platform for Off {
    fn hvc(&self, _cpu: &mut ArmCpu, _imm: u16) -> CpuAction {
        CpuAction::Shutdown(0)
    }
}

const RAM: u64 = 0x4000_0000;

/// x0 counts up forever.
const LOOP: [u32; 3] = [
    0xd280_0000, // mov x0, #0
    0x9100_0400, // add x0, x0, #1
    0x17ff_ffff, // b .-4
];

fn packet(body: &str) -> Vec<u8> {
    let sum = body.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    format!("${body}#{sum:02x}").into_bytes()
}

/// A reply body with the protocol's run-length encoding (`X*N`: N - 29 more X) undone.
fn unrle(b: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'*' && i + 1 < b.len() {
            let last = out.last().copied().unwrap_or(b'0');
            out.extend(std::iter::repeat_n(last, (b[i + 1] - 29) as usize));
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn send_raw(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    /// The next packet's body (acknowledging it); `+`/`-` before it are skipped.
    fn reply(&mut self) -> String {
        loop {
            if let Some(start) = self.buf.iter().position(|&b| b == b'$') {
                if let Some(hash) = self.buf[start..].iter().position(|&b| b == b'#') {
                    let end = start + hash + 3;
                    if self.buf.len() >= end {
                        let body = unrle(&self.buf[start + 1..start + hash]);
                        self.buf.drain(..end);
                        self.send_raw(b"+");
                        return body;
                    }
                }
            }
            let mut tmp = [0u8; 4096];
            let n = self.s.read(&mut tmp).expect("a reply");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    fn ask(&mut self, body: &str) -> String {
        self.send_raw(&packet(body));
        self.reply()
    }
}

fn x0_from_g(g: &str) -> u64 {
    let mut b = [0u8; 8];
    for (i, v) in b.iter_mut().enumerate() {
        *v = u8::from_str_radix(&g[2 * i..2 * i + 2], 16).unwrap();
    }
    u64::from_le_bytes(b)
}

/// Waits until the stub has let the machine run again after a session ended, and x0 (read
/// through queued work, without stopping it) passed `than`.
fn wait_running(dbg: &Debugger, slot: &MachineSlot, than: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let x0 = || {
        let (tx, rx) = std::sync::mpsc::channel();
        let c = slot.get(Duration::ZERO).expect("the machine");
        c.run_on_sync(0, move |cpu| {
            let _ = tx.send(cpu.reg(0));
        })
        .unwrap();
        rx.recv().unwrap()
    };
    while dbg.is_stopped() || x0() <= than {
        assert!(Instant::now() < deadline, "the machine was not resumed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn raw_protocol_errors_reconnects_interrupt_step_and_kill() {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 1 << 20).unwrap();
    let code: Vec<u8> = LOOP.iter().flat_map(|w| w.to_le_bytes()).collect();
    m.write_bytes(PhysAddr(RAM), &code).unwrap();
    let phys = Arc::new(m);
    let mut cpu = ArmCpu::new(
        CpuConfig {
            index: 0,
            log_unimp: false,
        },
        phys.clone(),
        Arc::new(Off),
    );
    cpu.reset_to(RAM, 0);
    let sched = Sched::new(
        vec![cpu],
        Arc::new(backend_interp::Interp::new()),
        SchedMode::Mttcg,
    );
    assert!(sched.attach_phys(phys));
    let dbg = Arc::new(Debugger::new(1, true));
    assert!(sched.attach_debugger(dbg.clone()));
    let slot = Arc::new(MachineSlot::new());
    slot.set(sched.control());
    let server = GdbServer::start("127.0.0.1:0", dbg.clone(), slot.clone()).unwrap();
    let addr = server.address().to_string();
    let machine = std::thread::spawn(move || sched.run());

    let mut c = Client::connect(&addr);
    assert!(c.ask("?").starts_with('T'));
    let g = c.ask("g");
    assert_eq!(g.len(), 2 * (33 * 8 + 4 + 32 * 16 + 8));
    assert_eq!(x0_from_g(&g), 0);
    // Memory: the code itself, then nothing mapped (an error, not a crash).
    assert_eq!(c.ask(&format!("m{RAM:x},4")), "000080d2");
    assert!(c.ask("m0,8").starts_with('E'));
    assert!(c.ask("mffffffffffffff00,100").starts_with('E'));
    assert!(c.ask("M9000000,1:00").starts_with('E'));
    // A register GDB's numbering does not have: an error reply.
    let r = c.ask("p99");
    assert!(r.starts_with('E') || r.is_empty(), "{r}");
    // A packet with a bad checksum ends the session (the machine runs on).
    c.send_raw(b"$g#00");
    let mut rest = Vec::new();
    let _ = c.s.read_to_end(&mut rest);
    wait_running(&dbg, &slot, 0);
    let mut c = Client::connect(&addr);
    assert!(c.ask("?").starts_with('T'));
    let x = x0_from_g(&c.ask("g"));
    assert!(x > 0, "the machine ran between the sessions");
    // Gone mid-packet: the machine runs on, and a new client is served.
    c.send_raw(b"$m4000");
    drop(c);
    wait_running(&dbg, &slot, x);
    let mut c = Client::connect(&addr);
    assert!(c.ask("?").starts_with('T'));
    let x = x0_from_g(&c.ask("g"));

    // Continue, then Ctrl-C: a SIGINT stop of thread 1.
    c.send_raw(&packet("vCont;c"));
    std::thread::sleep(Duration::from_millis(50));
    c.send_raw(&[0x03]);
    let stop = c.reply();
    assert!(
        stop.starts_with("T02") && stop.contains("thread:"),
        "{stop}"
    );
    assert!(x0_from_g(&c.ask("g")) > x);
    // One step: SIGTRAP, and the pc moved by one instruction (or looped back).
    let pc_of = |g: &str| {
        let mut b = [0u8; 8];
        for (i, v) in b.iter_mut().enumerate() {
            *v = u8::from_str_radix(&g[2 * (32 * 8 + i)..2 * (32 * 8 + i) + 2], 16).unwrap();
        }
        u64::from_le_bytes(b)
    };
    let before = pc_of(&c.ask("g"));
    c.send_raw(&packet("vCont;s:1"));
    let stop = c.reply();
    assert!(stop.starts_with("T05"), "{stop}");
    let after = pc_of(&c.ask("g"));
    assert!(
        after == before + 4 || (before == RAM + 8 && after == RAM + 4),
        "{before:#x} -> {after:#x}"
    );
    // Kill: the machine stops.
    c.send_raw(&packet("k"));
    let out = machine.join().unwrap();
    assert_eq!(out.status, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.killed() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
}
