// The LLVM MC + lld peer (Debian's llvm-14-dev and lld-14): the same instructions as generator.hpp,
// built as MCInsts and given to an MCStreamer in this process, which encodes them, relaxes the
// branches and writes an ELF relocatable object; then ld.lld (a process: Debian 12 ships lld as a
// program, the library would be liblld-14-dev) links it with the same options as the nasm + ld
// peer. Text never appears: no assembly parser, as a compiler back end emits.
//
// The X86 opcode and register enumerations are not installed with llvm-14-dev (they are generated
// into the X86 target's private headers), so the builder looks the few it needs up by name once,
// in MCInstrInfo and MCRegisterInfo.
#include <fstream>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/Triple.h>
#include <llvm/MC/MCAsmBackend.h>
#include <llvm/MC/MCAsmInfo.h>
#include <llvm/MC/MCCodeEmitter.h>
#include <llvm/MC/MCContext.h>
#include <llvm/MC/MCExpr.h>
#include <llvm/MC/MCInst.h>
#include <llvm/MC/MCInstrInfo.h>
#include <llvm/MC/MCObjectFileInfo.h>
#include <llvm/MC/MCObjectWriter.h>
#include <llvm/MC/MCRegisterInfo.h>
#include <llvm/MC/MCStreamer.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/MCTargetOptions.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include "generator.hpp"
#include "peers.hpp"
#include "process.hpp"

namespace bench {

namespace {

constexpr const char* kTriple = "x86_64-pc-linux-gnu";
// X86::CondCode (llvm/lib/Target/X86/MCTargetDesc/X86BaseInfo.h): COND_NE, the condition of jne/jnz.
constexpr int64_t kCondNotEqual = 5;

// The target's description, made once per builder.
class Target {
 public:
  Target() {
    static std::once_flag initialized;
    std::call_once(initialized, [] {
      LLVMInitializeX86TargetInfo();
      LLVMInitializeX86TargetMC();
    });
    std::string error;
    target_ = llvm::TargetRegistry::lookupTarget(kTriple, error);
    if (target_ == nullptr) throw std::runtime_error("LLVM: " + error);
    registers_.reset(target_->createMCRegInfo(kTriple));
    asm_info_.reset(target_->createMCAsmInfo(*registers_, kTriple, options_));
    instructions_.reset(target_->createMCInstrInfo());
    subtarget_.reset(target_->createMCSubtargetInfo(kTriple, "", ""));
    for (unsigned op = 0; op < instructions_->getNumOpcodes(); ++op) opcodes_[instructions_->getName(op).str()] = op;
    for (unsigned reg = 0; reg < registers_->getNumRegs(); ++reg) register_numbers_[registers_->getName(reg)] = reg;
  }

  unsigned opcode(const char* name) const { return find(opcodes_, name, "instruction"); }
  unsigned reg(const char* name) const { return find(register_numbers_, name, "register"); }

  const llvm::Target& target() const { return *target_; }
  const llvm::MCTargetOptions& options() const { return options_; }
  const llvm::MCRegisterInfo& registers() const { return *registers_; }
  const llvm::MCAsmInfo& asm_info() const { return *asm_info_; }
  const llvm::MCInstrInfo& instructions() const { return *instructions_; }
  const llvm::MCSubtargetInfo& subtarget() const { return *subtarget_; }

 private:
  static unsigned find(const std::unordered_map<std::string, unsigned>& map, const char* name, const char* what) {
    const auto found = map.find(name);
    if (found == map.end()) throw std::runtime_error(std::string("LLVM: no X86 ") + what + " named " + name);
    return found->second;
  }

  const llvm::Target* target_ = nullptr;
  llvm::MCTargetOptions options_;
  std::unique_ptr<llvm::MCRegisterInfo> registers_;
  std::unique_ptr<llvm::MCAsmInfo> asm_info_;
  std::unique_ptr<llvm::MCInstrInfo> instructions_;
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget_;
  std::unordered_map<std::string, unsigned> opcodes_;
  std::unordered_map<std::string, unsigned> register_numbers_;
};

// The opcodes and registers the programs use.
struct Names {
  explicit Names(const Target& t)
      : add64rr(t.opcode("ADD64rr")), mov64rm(t.opcode("MOV64rm")), mov64mr(t.opcode("MOV64mr")),
        imul64rri8(t.opcode("IMUL64rri8")), imul64rri32(t.opcode("IMUL64rri32")), lea64r(t.opcode("LEA64r")),
        add64mr(t.opcode("ADD64mr")), cmp64ri8(t.opcode("CMP64ri8")), cmp64ri32(t.opcode("CMP64ri32")),
        jcc1(t.opcode("JCC_1")), push64i8(t.opcode("PUSH64i8")), pop64r(t.opcode("POP64r")),
        mov32rr(t.opcode("MOV32rr")), mov32ri(t.opcode("MOV32ri")), xor32rr(t.opcode("XOR32rr")),
        add32mi8(t.opcode("ADD32mi8")), cmp32mi8(t.opcode("CMP32mi8")), syscall(t.opcode("SYSCALL")),
        rip(t.reg("RIP")), rax(t.reg("RAX")), rdx(t.reg("RDX")), rsi(t.reg("RSI")), rdi(t.reg("RDI")),
        eax(t.reg("EAX")), edx(t.reg("EDX")), edi(t.reg("EDI")) {
    static constexpr const char* kGpq[] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                           "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15"};
    for (unsigned n = 0; n < 16; ++n) gpq[n] = t.reg(kGpq[n]);
  }
  unsigned add64rr, mov64rm, mov64mr, imul64rri8, imul64rri32, lea64r, add64mr, cmp64ri8, cmp64ri32, jcc1,
      push64i8, pop64r, mov32rr, mov32ri, xor32rr, add32mi8, cmp32mi8, syscall;
  unsigned rip, rax, rdx, rsi, rdi, eax, edx, edi;
  unsigned gpq[16];  // by hardware number
};

bool fits_int8(std::int64_t value) { return value >= -128 && value <= 127; }

// One object file: an MCContext, its sections and an ELF object streamer writing into `object`.
class Object {
 public:
  Object(const Target& t, const Names& n, llvm::SmallVectorImpl<char>& object)
      : t_(t), n_(n), out_(object),
        context_(llvm::Triple(kTriple), &t.asm_info(), &t.registers(), &t.subtarget(), nullptr, &t.options()) {
    files_.reset(t.target().createMCObjectFileInfo(context_, /*PIC=*/false));
    context_.setObjectFileInfo(files_.get());
    std::unique_ptr<llvm::MCAsmBackend> backend(
        t.target().createMCAsmBackend(t.subtarget(), t.registers(), t.options()));
    std::unique_ptr<llvm::MCObjectWriter> writer = backend->createObjectWriter(out_);
    std::unique_ptr<llvm::MCCodeEmitter> emitter(t.target().createMCCodeEmitter(t.instructions(), t.registers(), context_));
    streamer_.reset(t.target().createMCObjectStreamer(llvm::Triple(kTriple), context_, std::move(backend),
                                                      std::move(writer), std::move(emitter), t.subtarget(),
                                                      /*RelaxAll=*/false, /*IncrementalLinkerCompatible=*/false,
                                                      /*DWARFMustBeAtTheEnd=*/false));
    streamer_->initSections(/*NoExecStack=*/false, t.subtarget());
  }

  // `size` bytes in rodata or data, aligned to 8, and a symbol on them.
  llvm::MCSymbol* rodata(const void* bytes, std::size_t size) { return data(files_->getReadOnlySection(), bytes, size); }
  llvm::MCSymbol* data(const void* bytes, std::size_t size) { return data(files_->getDataSection(), bytes, size); }

  // Starts the text, at the global symbol _start, ld's default entry point.
  void start() {
    streamer_->SwitchSection(files_->getTextSection());
    llvm::MCSymbol* entry = context_.getOrCreateSymbol("_start");
    streamer_->emitSymbolAttribute(entry, llvm::MCSA_Global);
    streamer_->emitLabel(entry);
  }

  llvm::MCSymbol* label() { return context_.createTempSymbol(); }
  void bind(llvm::MCSymbol* label) { streamer_->emitLabel(label); }

  // Operands.
  static llvm::MCOperand reg(unsigned number) { return llvm::MCOperand::createReg(number); }
  static llvm::MCOperand imm(std::int64_t value) { return llvm::MCOperand::createImm(value); }
  llvm::MCOperand address(llvm::MCSymbol* symbol, std::int64_t offset = 0) {
    const llvm::MCExpr* expr = llvm::MCSymbolRefExpr::create(symbol, context_);
    if (offset != 0) expr = llvm::MCBinaryExpr::createAdd(expr, llvm::MCConstantExpr::create(offset, context_), context_);
    return llvm::MCOperand::createExpr(expr);
  }

  // An instruction; a memory operand is five MCOperands: base, scale, index, displacement, segment.
  void emit(unsigned opcode, std::initializer_list<llvm::MCOperand> operands) {
    llvm::MCInst inst;
    inst.setOpcode(opcode);
    for (const llvm::MCOperand& operand : operands) inst.addOperand(operand);
    streamer_->emitInstruction(inst, t_.subtarget());
  }

  // The memory operands [base + disp] and [rip + symbol + offset].
  void emit_mem(unsigned opcode, std::initializer_list<llvm::MCOperand> before, unsigned base, llvm::MCOperand disp,
                std::initializer_list<llvm::MCOperand> after) {
    llvm::MCInst inst;
    inst.setOpcode(opcode);
    for (const llvm::MCOperand& operand : before) inst.addOperand(operand);
    inst.addOperand(reg(base));
    inst.addOperand(imm(1));
    inst.addOperand(reg(0));
    inst.addOperand(disp);
    inst.addOperand(reg(0));
    for (const llvm::MCOperand& operand : after) inst.addOperand(operand);
    streamer_->emitInstruction(inst, t_.subtarget());
  }

  void jnz(llvm::MCSymbol* target) { emit(n_.jcc1, {address(target), imm(kCondNotEqual)}); }

  // Lays out the sections, relaxes the branches and writes the object.
  void finish() { streamer_->Finish(); }

 private:
  llvm::MCSymbol* data(llvm::MCSection* section, const void* bytes, std::size_t size) {
    streamer_->SwitchSection(section);
    streamer_->emitValueToAlignment(8);
    llvm::MCSymbol* symbol = context_.createTempSymbol();
    streamer_->emitLabel(symbol);
    streamer_->emitBytes(llvm::StringRef(static_cast<const char*>(bytes), size));
    return symbol;
  }

  const Target& t_;
  const Names& n_;
  llvm::raw_svector_ostream out_;
  llvm::MCContext context_;
  std::unique_ptr<llvm::MCObjectFileInfo> files_;
  std::unique_ptr<llvm::MCStreamer> streamer_;
};

void exit42(Object& o, const Names& n) {
  o.start();
  o.emit(n.push64i8, {Object::imm(42)});  // exit status
  o.emit(n.pop64r, {Object::reg(n.rdi)});
  o.emit(n.push64i8, {Object::imm(60)});  // SYS_exit
  o.emit(n.pop64r, {Object::reg(n.rax)});
  o.emit(n.syscall, {});
}

void hello(Object& o, const Names& n) {
  llvm::MCSymbol* message = o.rodata(kHelloMessage.data(), kHelloMessage.size());
  o.start();
  o.emit(n.push64i8, {Object::imm(1)});  // SYS_write
  o.emit(n.pop64r, {Object::reg(n.rax)});
  o.emit(n.mov32rr, {Object::reg(n.edi), Object::reg(n.eax)});
  o.emit_mem(n.lea64r, {Object::reg(n.rsi)}, n.rip, o.address(message), {});
  o.emit(n.push64i8, {Object::imm(static_cast<std::int64_t>(kHelloMessage.size()))});
  o.emit(n.pop64r, {Object::reg(n.rdx)});
  o.emit(n.syscall, {});
  o.emit(n.push64i8, {Object::imm(60)});  // SYS_exit
  o.emit(n.pop64r, {Object::reg(n.rax)});
  o.emit(n.xor32rr, {Object::reg(n.edi), Object::reg(n.edi), Object::reg(n.edi)});
  o.emit(n.syscall, {});
}

void loop(Object& o, const Names& n) {
  llvm::MCSymbol* message = o.rodata(kHelloMessage.data(), kHelloMessage.size());
  llvm::MCSymbol* counter = o.data(kLoopCounter.data(), kLoopCounter.size());
  o.start();
  llvm::MCSymbol* again = o.label();
  o.bind(again);
  o.emit(n.push64i8, {Object::imm(1)});  // SYS_write
  o.emit(n.pop64r, {Object::reg(n.rax)});
  o.emit(n.mov32rr, {Object::reg(n.edi), Object::reg(n.eax)});
  o.emit_mem(n.lea64r, {Object::reg(n.rsi)}, n.rip, o.address(message), {});
  o.emit(n.mov32ri, {Object::reg(n.edx), Object::imm(static_cast<std::int64_t>(kHelloMessage.size()))});
  o.emit(n.syscall, {});
  o.emit_mem(n.add32mi8, {}, n.rip, o.address(counter), {Object::imm(1)});
  o.emit_mem(n.cmp32mi8, {}, n.rip, o.address(counter), {Object::imm(kLoopTimes)});
  o.jnz(again);
  o.emit(n.mov32ri, {Object::reg(n.eax), Object::imm(60)});  // SYS_exit
  o.emit(n.xor32rr, {Object::reg(n.edi), Object::reg(n.edi), Object::reg(n.edi)});
  o.emit(n.syscall, {});
}

void mixed(Object& o, const Names& n, std::size_t count) {
  llvm::MCSymbol* table = o.rodata(kTable.data(), kTable.size());
  llvm::MCSymbol* cells = o.data(kCells.data(), kCells.size());
  o.start();
  llvm::MCSymbol* here = o.label();
  llvm::MCSymbol* next = o.label();
  for (std::size_t i = 0; i < count; ++i) {
    const MixedStep step = mixed_step(i);
    const llvm::MCOperand r = Object::reg(n.gpq[step.r]);
    const llvm::MCOperand s = Object::reg(n.gpq[step.s]);
    switch (step.kind) {
      case MixedKind::kAddRegReg:
        o.bind(here);
        o.emit(n.add64rr, {r, r, s});
        break;
      case MixedKind::kLoad: o.emit_mem(n.mov64rm, {r}, n.gpq[kMixedBase], Object::imm(step.disp), {}); break;
      case MixedKind::kStore: o.emit_mem(n.mov64mr, {}, n.gpq[kMixedBase], Object::imm(step.disp), {s}); break;
      case MixedKind::kImul:
        o.emit(fits_int8(step.imm) ? n.imul64rri8 : n.imul64rri32, {r, s, Object::imm(step.imm)});
        break;
      case MixedKind::kLeaTable: o.emit_mem(n.lea64r, {r}, n.rip, o.address(table, step.offset), {}); break;
      case MixedKind::kAddToCells: o.emit_mem(n.add64mr, {}, n.rip, o.address(cells, step.offset), {r}); break;
      case MixedKind::kCmp: o.emit(fits_int8(step.imm) ? n.cmp64ri8 : n.cmp64ri32, {r, Object::imm(step.imm)}); break;
      case MixedKind::kJnzForward:
      case MixedKind::kJnzBackward:
        o.jnz(step.kind == MixedKind::kJnzForward ? next : here);
        here = next;
        next = o.label();
        break;
    }
  }
  if (mixed_ends_with_label(count)) o.bind(here);
}

class LlvmMcBuilder final : public Builder {
 public:
  LlvmMcBuilder() : names_(target_) {}

  std::vector<std::uint8_t> build(const Workload& workload) override {
    llvm::SmallVector<char, 0> bytes;
    {
      Object object(target_, names_, bytes);
      switch (workload.shape) {
        case Shape::kExit42: exit42(object, names_); break;
        case Shape::kHello: hello(object, names_); break;
        case Shape::kLoop: loop(object, names_); break;
        case Shape::kMixed: mixed(object, names_, workload.instructions); break;
      }
      object.finish();
    }
    const std::string object_path = workspace_.path("program.o");
    const std::string exe = workspace_.path("program");
    std::ofstream(object_path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    spawn_and_wait({TINYELF_BENCH_LD_LLD, "-n", "-N", "--strip-all", object_path, "-o", exe}, workspace_.path("stderr.log"));
    return read_file(exe);
  }

 private:
  Target target_;
  Names names_;
  Workspace workspace_;
};

[[maybe_unused]] const bool registered = register_peer({
    .name = "llvm_mc",
    .make = [] { return std::unique_ptr<Builder>(new LlvmMcBuilder); },
    .timed = kAllWorkloads,
    .memory = kAllWorkloads,
    .wall_clock = true,
});

}  // namespace

}  // namespace bench
