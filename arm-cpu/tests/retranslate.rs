//! `GuestCpu::retranslate` (used by the tiered back end's background promotion) gives the
//! IR `translate` gave, from guest physical memory alone.

use arm_cpu::{ArmCpu, CpuConfig, Platform};
use softmmu::{PhysAddr, PhysMap};
use std::sync::Arc;
use vcpu_sched::{CpuAction, GuestCpu};

struct NoPlatform;

impl Platform for NoPlatform {
    fn hvc(&self, _cpu: &mut ArmCpu, _imm: u16) -> CpuAction {
        CpuAction::Continue
    }
}

const RAM: u64 = 0x4000_0000;

#[test]
fn retranslation_matches_translation() {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 1 << 20).unwrap();
    // A block with arithmetic, flags, a load/store pair and a conditional branch, at the
    // end of a page (so it stops at the page boundary), and one with BR.
    let code: [u32; 6] = [
        0x8b020020, // add x0, x1, x2
        0xeb03001f, // cmp x0, x3
        0xf9400024, // ldr x4, [x1]
        0xf9000044, // str x4, [x2]
        0x54ffff61, // b.ne .-0x14
        0xd61f0080, // br x4
    ];
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    for base in [RAM + 0x1000, RAM + 0x2000 - 8] {
        m.write_bytes(
            PhysAddr(base),
            &bytes[..bytes.len().min((RAM + 0x2000 - base) as usize)],
        )
        .unwrap();
    }
    let phys = Arc::new(m);
    let mut cpu = ArmCpu::new(
        CpuConfig {
            index: 0,
            log_unimp: false,
        },
        phys.clone(),
        Arc::new(NoPlatform),
    );
    for pc in [RAM + 0x1000, RAM + 0x1008, RAM + 0x1014, RAM + 0x2000 - 8] {
        cpu.reset_to(pc, 0);
        let key = cpu.tb_key().expect("key");
        let t = cpu.translate(&key).expect("translate");
        let again = ArmCpu::retranslate(&phys, &key).expect("retranslate");
        assert_eq!(again.to_string(), t.func.to_string(), "pc {pc:#x}");
    }
    // Outside RAM there is nothing to translate from.
    let key = vcpu_sched::TbKey {
        pc: 0x1000,
        phys_pc: 0x1000,
        flags: 0,
    };
    assert!(ArmCpu::retranslate(&phys, &key).is_none());
}
