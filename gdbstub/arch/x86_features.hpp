// Feature names and target.xml type definitions shared by the x86 tables.  The core and sse
// definitions follow the ones in gdb's own features/i386/*.xml; vec128 leaves out the
// bfloat16 and ieee_half views that gdb 12 added, because older gdbs reject a description
// naming a base type they do not know.  The system feature's types are hvgdb's own.
// Internal to arch/.
#pragma once

#include <array>
#include <string_view>

#include "gdbstub/arch/arch.hpp"

namespace hvgdb::gdbstub::arch::x86 {

inline constexpr std::string_view kCore = "org.gnu.gdb.i386.core";
inline constexpr std::string_view kSse = "org.gnu.gdb.i386.sse";
inline constexpr std::string_view kSegments = "org.gnu.gdb.i386.segments";
// hvgdb's own feature: the system state a bare-metal debugger needs.  gdb shows the registers
// of a feature it does not know as they are described, in the groups they name.
inline constexpr std::string_view kSystem = "org.hvgdb.x86.system";

// EFLAGS bits, Intel SDM Vol. 1, 3.4.3.
inline constexpr std::string_view kEflagsType = R"(<flags id="i386_eflags" size="4">
  <field name="CF" start="0" end="0"/>
  <field name="" start="1" end="1"/>
  <field name="PF" start="2" end="2"/>
  <field name="AF" start="4" end="4"/>
  <field name="ZF" start="6" end="6"/>
  <field name="SF" start="7" end="7"/>
  <field name="TF" start="8" end="8"/>
  <field name="IF" start="9" end="9"/>
  <field name="DF" start="10" end="10"/>
  <field name="OF" start="11" end="11"/>
  <field name="NT" start="14" end="14"/>
  <field name="RF" start="16" end="16"/>
  <field name="VM" start="17" end="17"/>
  <field name="AC" start="18" end="18"/>
  <field name="VIF" start="19" end="19"/>
  <field name="VIP" start="20" end="20"/>
  <field name="ID" start="21" end="21"/>
</flags>
)";

// The views gdb offers of an xmm register, and the MXCSR bits (Intel SDM Vol. 1, 10.2.3).
inline constexpr std::string_view kSseTypes = R"(<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
  <field name="v4_float" type="v4f"/>
  <field name="v2_double" type="v2d"/>
  <field name="v16_int8" type="v16i8"/>
  <field name="v8_int16" type="v8i16"/>
  <field name="v4_int32" type="v4i32"/>
  <field name="v2_int64" type="v2i64"/>
  <field name="uint128" type="uint128"/>
</union>
<flags id="i386_mxcsr" size="4">
  <field name="IE" start="0" end="0"/>
  <field name="DE" start="1" end="1"/>
  <field name="ZE" start="2" end="2"/>
  <field name="OE" start="3" end="3"/>
  <field name="UE" start="4" end="4"/>
  <field name="PE" start="5" end="5"/>
  <field name="DAZ" start="6" end="6"/>
  <field name="IM" start="7" end="7"/>
  <field name="DM" start="8" end="8"/>
  <field name="ZM" start="9" end="9"/>
  <field name="OM" start="10" end="10"/>
  <field name="UM" start="11" end="11"/>
  <field name="PM" start="12" end="12"/>
  <field name="FZ" start="15" end="15"/>
</flags>
)";

// The system feature's bit layouts.  Multi-bit fields without a type are unsigned numbers,
// so gdb prints e.g. [ type=11 S P L G ].  CR0, EFER, DR6 and DR7 have nothing defined
// above bit 31 (KVM refuses those bits), so their types are 4 bytes: gdb assigns a plain
// number such as 0x80000011 only to a flags register of its own size.  CR4 has FRED at bit
// 32 and stays 8 bytes ("set $cr4 = (long) 0x620").
//  x86_segment_attr: a segment's attributes packed as VMX's access-rights field (SDM vol. 3C,
//    24.4.1): type 0-3, S 4, DPL 5-6, P 7, AVL 12, L 13, D/B 14, G 15, and "unusable" 16
//    (the segment was loaded with a null selector).
//  x86_cr0, x86_cr4: SDM vol. 3A, 2.5.  x86_efer: SDM vol. 3A, 2.2.1 and AMD APM vol. 2,
//    3.1.7 (SVME, LMSLE, FFXSR, TCE are AMD's).
//  x86_dr6, x86_dr7: SDM vol. 3B, 17.2.3 and 17.2.4.  DR6's bits 11 and 16 read as 1 unless
//    a bus-lock or RTM debug event cleared them, so they are left out rather than shown set.
inline constexpr std::string_view kSystemTypes = R"(<flags id="x86_segment_attr" size="4">
  <field name="type" start="0" end="3"/>
  <field name="S" start="4" end="4"/>
  <field name="DPL" start="5" end="6"/>
  <field name="P" start="7" end="7"/>
  <field name="AVL" start="12" end="12"/>
  <field name="L" start="13" end="13"/>
  <field name="DB" start="14" end="14"/>
  <field name="G" start="15" end="15"/>
  <field name="unusable" start="16" end="16"/>
</flags>
<flags id="x86_cr0" size="4">
  <field name="PE" start="0" end="0"/>
  <field name="MP" start="1" end="1"/>
  <field name="EM" start="2" end="2"/>
  <field name="TS" start="3" end="3"/>
  <field name="ET" start="4" end="4"/>
  <field name="NE" start="5" end="5"/>
  <field name="WP" start="16" end="16"/>
  <field name="AM" start="18" end="18"/>
  <field name="NW" start="29" end="29"/>
  <field name="CD" start="30" end="30"/>
  <field name="PG" start="31" end="31"/>
</flags>
<flags id="x86_cr4" size="8">
  <field name="VME" start="0" end="0"/>
  <field name="PVI" start="1" end="1"/>
  <field name="TSD" start="2" end="2"/>
  <field name="DE" start="3" end="3"/>
  <field name="PSE" start="4" end="4"/>
  <field name="PAE" start="5" end="5"/>
  <field name="MCE" start="6" end="6"/>
  <field name="PGE" start="7" end="7"/>
  <field name="PCE" start="8" end="8"/>
  <field name="OSFXSR" start="9" end="9"/>
  <field name="OSXMMEXCPT" start="10" end="10"/>
  <field name="UMIP" start="11" end="11"/>
  <field name="LA57" start="12" end="12"/>
  <field name="VMXE" start="13" end="13"/>
  <field name="SMXE" start="14" end="14"/>
  <field name="FSGSBASE" start="16" end="16"/>
  <field name="PCIDE" start="17" end="17"/>
  <field name="OSXSAVE" start="18" end="18"/>
  <field name="KL" start="19" end="19"/>
  <field name="SMEP" start="20" end="20"/>
  <field name="SMAP" start="21" end="21"/>
  <field name="PKE" start="22" end="22"/>
  <field name="CET" start="23" end="23"/>
  <field name="PKS" start="24" end="24"/>
  <field name="UINTR" start="25" end="25"/>
  <field name="LASS" start="27" end="27"/>
  <field name="LAM_SUP" start="28" end="28"/>
  <field name="FRED" start="32" end="32"/>
</flags>
<flags id="x86_efer" size="4">
  <field name="SCE" start="0" end="0"/>
  <field name="LME" start="8" end="8"/>
  <field name="LMA" start="10" end="10"/>
  <field name="NXE" start="11" end="11"/>
  <field name="SVME" start="12" end="12"/>
  <field name="LMSLE" start="13" end="13"/>
  <field name="FFXSR" start="14" end="14"/>
  <field name="TCE" start="15" end="15"/>
</flags>
<flags id="x86_dr6" size="4">
  <field name="B0" start="0" end="0"/>
  <field name="B1" start="1" end="1"/>
  <field name="B2" start="2" end="2"/>
  <field name="B3" start="3" end="3"/>
  <field name="BD" start="13" end="13"/>
  <field name="BS" start="14" end="14"/>
  <field name="BT" start="15" end="15"/>
</flags>
<flags id="x86_dr7" size="4">
  <field name="L0" start="0" end="0"/>
  <field name="G0" start="1" end="1"/>
  <field name="L1" start="2" end="2"/>
  <field name="G1" start="3" end="3"/>
  <field name="L2" start="4" end="4"/>
  <field name="G2" start="5" end="5"/>
  <field name="L3" start="6" end="6"/>
  <field name="G3" start="7" end="7"/>
  <field name="LE" start="8" end="8"/>
  <field name="GE" start="9" end="9"/>
  <field name="RTM" start="11" end="11"/>
  <field name="GD" start="13" end="13"/>
  <field name="RW0" start="16" end="17"/>
  <field name="LEN0" start="18" end="19"/>
  <field name="RW1" start="20" end="21"/>
  <field name="LEN1" start="22" end="23"/>
  <field name="RW2" start="24" end="25"/>
  <field name="LEN2" start="26" end="27"/>
  <field name="RW3" start="28" end="29"/>
  <field name="LEN3" start="30" end="31"/>
</flags>
)";

// Which feature defines which types: the same for every x86 table.
inline constexpr std::array kFeatureTypes{
    FeatureTypes{kCore, kEflagsType},
    FeatureTypes{kSse, kSseTypes},
    FeatureTypes{kSystem, kSystemTypes},
};

}  // namespace hvgdb::gdbstub::arch::x86
