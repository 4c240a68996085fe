//! Machine start-up cost (RAM, devices, ELF load, CPUs) and a UART write through MMIO.

use criterion::{criterion_group, criterion_main, Criterion};
use machine_virt::pl011::Pl011;
use machine_virt::{Board, BoardConfig};
use softmmu::MmioDevice;
use std::sync::Arc;
use vcpu_sched::SchedMode;

/// A minimal AArch64 ELF64: one PT_LOAD of 4 KiB at 0x4008_0000.
fn tiny_elf() -> Vec<u8> {
    let mut f = vec![0u8; 64 + 56];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[18..20].copy_from_slice(&183u16.to_le_bytes());
    f[24..32].copy_from_slice(&0x4008_0000u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = 64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
    f[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes());
    f[ph + 24..ph + 32].copy_from_slice(&0x4008_0000u64.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&4096u64.to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&4096u64.to_le_bytes());
    f.extend_from_slice(&[0u8; 4096]);
    f
}

fn bench(c: &mut Criterion) {
    let elf = tiny_elf();
    c.bench_function("board_build_512m_4cpus", |b| {
        b.iter(|| {
            Board::new(BoardConfig {
                kernel: elf.clone(),
                initrd: None,
                append: None,
                ram_size: 512 << 20,
                smp: 4,
                mode: SchedMode::Mttcg,
                backend: Arc::new(backend_interp::Interp::new()),
                log_unimp: false,
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
