//! Machine start-up cost (RAM, devices, ELF load, CPUs) and a UART write through MMIO.

use criterion::{criterion_group, criterion_main, Criterion};
use machine_virt::pl011::Pl011;
use machine_virt::{Board, BoardConfig};
use softmmu::MmioDevice;
use std::sync::Arc;
use vcpu_sched::SchedMode;

fn bench(c: &mut Criterion) {
    let elf = machine_virt::loader::minimal_elf(0x4008_0000, &[0u8; 4096], 4096);
    c.bench_function("board_build_512m_4cpus", |b| {
        b.iter(|| {
            Board::new(BoardConfig {
                kernel: elf.clone(),
                initrd: None,
                append: None,
                ram_size: 512 << 20,
                smp: 4,
                gic_version: Default::default(),
                mode: SchedMode::Mttcg,
                backend: Arc::new(backend_interp::Interp::new()),
                log_unimp: false,
                stdin: None,
                cpu: Default::default(),
                dtb: None,
                dtb_randomness: true,
                serial: machine_virt::board::Serial::Null,
                virtio: Vec::new(),
                debugger: None,
            })
        })
    });
    let uart = Pl011::new(Box::new(std::io::sink()));
    c.bench_function("pl011_tx_byte", |b| {
        b.iter(|| uart.write(0, 4, b'x' as u64))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
