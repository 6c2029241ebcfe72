// The x86-64 backend: one straight pass over the IR with AsmJit's Assembler.
//
// Register use in the generated program (syscall clobbers only rax, rcx, r11 and its arguments):
//   rbx  p, the tape pointer                        rbp  the tape's first cell
//   r12  next free byte of the output buffer        r13  end of the output buffer
//   r14  next unread byte of the input buffer       r15  end of the input data
//
// The tape is not in the executable's bss: it is mapped at start-up between two PROT_NONE guard
// regions, and a SIGSEGV handler turns a fault there into "error: pointer moved off tape". The
// guards are at least as wide as the furthest the pointer can get between two cell accesses, so
// no access can jump over them into the code and data of the program. The checks then cost
// nothing per command: the MMU does them.
#include "emit_x86.hpp"

#include <sys/ucontext.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "source.hpp"

namespace bfc {

using namespace asmjit;

namespace {

constexpr std::size_t kPageSize = 4096;
constexpr std::int64_t kMaxReach = std::int64_t{1} << 30;  // keeps every displacement in an int32
constexpr std::size_t kBufferSize = 4096;
constexpr std::int64_t kWindow = 64;  // bytes a scan of steps other than 1, 2, 4 and 8 tests at once

// Linux x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl) and flags.
constexpr int kSysRead = 0, kSysWrite = 1, kSysMmap = 9, kSysMprotect = 10, kSysRtSigaction = 13,
              kSysExitGroup = 231;
constexpr int kProtReadWrite = 0x1 | 0x2;                   // PROT_READ | PROT_WRITE
constexpr int kMapFlags = 0x02 | 0x20 | 0x4000;             // MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
constexpr int kSigsegv = 11;
// x86-64 delivers a signal only to a handler registered with SA_RESTORER (it refuses to build
// the frame otherwise: x64_setup_rt_frame in arch/x86/kernel/signal_64.c). The restorer is
// never used: the handler exits.
constexpr int kSaFlags = 0x04000000 | 0x4;  // SA_RESTORER | SA_SIGINFO
// Where the kernel saves r12 in the ucontext it passes as the handler's third argument:
// uc_flags (8) + uc_link (8) + uc_stack (24), then sigcontext's r8, r9, r10, r11, r12.
constexpr int kUcontextR12 = 72;
static_assert(offsetof(ucontext_t, uc_mcontext) + sizeof(greg_t) * REG_R12 == kUcontextR12);

constexpr std::string_view kOffTapeMessage = "error: pointer moved off tape\n";
constexpr std::string_view kWriteFailedMessage = "error: cannot write output\n";
constexpr std::string_view kNoTapeMessage = "error: cannot map the tape\n";

std::size_t round_up(std::size_t value, std::size_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// The furthest (in cells) a cell access can be from the last cell that was accessed or the
// tape's first cell. Every block starts at a checked cell: the program's first cell, or p[0]
// right after a loop test. Inside a run of straight-line nodes the distance is bounded by the
// moves so far plus the largest offset.
std::int64_t reach(const Block& block) {
  std::int64_t furthest = 0, moves = 0, offsets = 0;
  for (const Node& node : block) {
    switch (node.op) {
      case Op::kMove: moves += std::abs(node.amount); break;
      case Op::kLoop: furthest = std::max(furthest, reach(node.body)); [[fallthrough]];
      case Op::kScan:
        furthest = std::max({furthest, moves + offsets, std::abs(node.amount)});
        moves = offsets = 0;
        break;
      case Op::kMultiply:
      case Op::kBoundedLoop:
        for (const Node& term : node.body) offsets = std::max(offsets, std::abs(node.offset + term.offset));
        [[fallthrough]];
      default: offsets = std::max(offsets, std::abs(node.offset)); break;
    }
    if (moves + offsets > kMaxReach)
      throw CompileError(fmt::format("error: the program moves the pointer more than {} cells between two cell "
                                     "accesses, which bfc does not support",
                                     kMaxReach));
  }
  return std::max(furthest, moves + offsets);
}

// True if `op` occurs anywhere in `block`: the runtime routines a program never calls are left out.
bool uses(const Block& block, Op op) {
  return std::any_of(block.begin(), block.end(),
                     [&](const Node& node) { return node.op == op || uses(node.body, op); });
}

// Cells whose values are also held in registers, so that reading them again costs no load: a
// cell just changed is then never reloaded from memory, which keeps chains of tests like
// [-x[-x[-x]]] (factor.b's digits) out of the store-to-load path. A register always holds the
// zero-extended value its cell has. Write-through, every write goes to both; with deferred stores,
// a change stays in the register alone (the register is dirty) until the code reaches a branch, a
// label, a call or a scan, or the register is taken for another cell: only then is the cell
// stored, so a cell changed twice or overwritten in straight-line code is stored once or never.
// Where two paths meet nothing is dirty, and they keep the entries they share. Cells are keyed by
// their offset from p; a move shifts the keys.
class CellCache {
 public:
  // Registers the generated code leaves free (see the register use above); r8 to r10 also
  // survive the runtime's calls (a syscall clobbers only rax, rcx and r11).
  static constexpr std::array<x86::Gp, 6> kRegisters = {x86::r8, x86::r9, x86::r10, x86::r11, x86::rsi, x86::rdi};

  // A dirty register and the cell it must be stored in.
  struct Pending {
    std::int64_t offset;
    x86::Gp reg;
  };

  std::optional<x86::Gp> find(std::int64_t offset) const {
    for (std::size_t i = 0; i < kRegisters.size(); ++i)
      if (held_[i] == offset) return kRegisters[i];
    return std::nullopt;
  }
  // A register for `offset`, taken from the cell held longest; if that register was dirty, the
  // store its old cell still needs (to be made before the register is overwritten).
  std::pair<x86::Gp, std::optional<Pending>> take(std::int64_t offset) {
    const std::size_t i = next_++ % kRegisters.size();
    std::optional<Pending> evicted;
    if (dirty_[i]) evicted = Pending{*held_[i], kRegisters[i]};
    held_[i] = offset;
    dirty_[i] = false;
    return {kRegisters[i], evicted};
  }
  // The cell's register holds a value its cell does not yet have.
  void mark_dirty(std::int64_t offset) {
    for (std::size_t i = 0; i < kRegisters.size(); ++i)
      if (held_[i] == offset) dirty_[i] = true;
  }
  // Calls store(offset, register) for each dirty register, which is clean after it.
  template <typename Store>
  void clean(Store store) {
    for (std::size_t i = 0; i < kRegisters.size(); ++i)
      if (dirty_[i]) store(*held_[i], kRegisters[i]), dirty_[i] = false;
  }
  // The cell is overwritten (or its value no longer matters): a pending store of it is dropped.
  void forget(std::int64_t offset) {
    for (std::size_t i = 0; i < kRegisters.size(); ++i)
      if (held_[i] == offset) held_[i].reset(), dirty_[i] = false;
  }
  // After a call to the runtime (nothing is dirty across calls): what it clobbers.
  void forget_clobbered_by_calls() { held_[3].reset(), held_[4].reset(), held_[5].reset(); }
  void clear() { held_.fill(std::nullopt); }
  // p moved by `amount`: the cell at offset k is now at offset k - amount.
  void shift(std::int64_t amount) {
    for (std::optional<std::int64_t>& held : held_)
      if (held) *held -= amount;
  }
  // Where two paths meet (both with nothing dirty): keep what both hold.
  void keep_common(const CellCache& other) {
    for (std::size_t i = 0; i < kRegisters.size(); ++i)
      if (held_[i] != other.held_[i]) held_[i].reset();
  }

 private:
  std::array<std::optional<std::int64_t>, kRegisters.size()> held_{};
  std::array<bool, kRegisters.size()> dirty_{};
  std::size_t next_ = 0;
};

// The values of a few cells, keyed by their offset from p (a move shifts the keys): what the
// known-values choice of the emitter knows at a point of the code. Only the latest kLimit are
// kept, so that a long run of straight-line code costs linear time.
class KnownCells {
 public:
  std::optional<std::int64_t> find(std::int64_t offset) const {
    for (std::size_t i = 0; i < size_; ++i)
      if (cells_[i].offset == offset) return cells_[i].value;
    return std::nullopt;
  }
  void set(std::int64_t offset, std::int64_t value) {
    forget(offset);
    if (size_ == kLimit) std::move(cells_.begin() + 1, cells_.end(), cells_.begin()), --size_;
    cells_[size_++] = {offset, wrap(value)};
  }
  void forget(std::int64_t offset) {
    for (std::size_t i = 0; i < size_; ++i)
      if (cells_[i].offset == offset) std::move(cells_.begin() + i + 1, cells_.begin() + size_, cells_.begin() + i), --size_;
  }
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  // Keeps only what `other` knows too.
  void keep_common(const KnownCells& other) {
    for (std::size_t i = size_; i-- > 0;)
      if (other.find(cells_[i].offset) != cells_[i].value) forget(cells_[i].offset);
  }
  bool operator==(const KnownCells& other) const {
    if (size_ != other.size_) return false;
    for (std::size_t i = 0; i < size_; ++i)
      if (other.find(cells_[i].offset) != cells_[i].value) return false;
    return true;
  }

  // What is known after `node` runs, from what was known before: the one model of the values
  // the emitter relies on (emit_block applies it after each node, and loops carry it round).
  void apply(const Node& node) {
    switch (node.op) {
      case Op::kAdd: {
        const std::optional<std::int64_t> value = find(node.offset);
        if (value) set(node.offset, *value + node.amount);
        else forget(node.offset);
        break;
      }
      case Op::kSet: set(node.offset, node.amount); break;
      case Op::kMove:
        for (std::size_t i = 0; i < size_; ++i) cells_[i].offset -= node.amount;
        break;
      case Op::kInput: forget(node.offset); break;
      case Op::kOutput: break;
      case Op::kLoop:
      case Op::kScan:
        if (find(0) == 0) break;           // left out
        clear();
        set(0, 0);
        break;
      case Op::kMultiply:
      case Op::kBoundedLoop: apply_multiply(node); break;
    }
  }
  void apply(std::span<const Node> block) {
    for (const Node& node : block) apply(node);
  }

 private:
  // The counts emit_multiply uses when it knows the source.
  void apply_multiply(const Node& node) {
    const std::optional<std::int64_t> source = find(node.offset);
    if (!source) {                         // sets only if the count was not 0
      for (const Node& term : node.body)
        if (term.op == Op::kAdd || find(node.offset + term.offset) != wrap(term.amount)) forget(node.offset + term.offset);
      if (node.op == Op::kMultiply) set(node.offset, 0);
      return;
    }
    const std::int64_t count = known_count(node, *source);
    if (count == 0) return;
    for (const Node& term : node.body) {
      const std::int64_t target = node.offset + term.offset;
      if (term.op == Op::kSet) {
        set(target, term.amount);
      } else {
        const std::optional<std::int64_t> value = find(target);
        if (value) set(target, *value + added_in(term, count));
        else forget(target);
      }
    }
    if (node.op == Op::kMultiply) set(node.offset, 0);
  }

 public:
  // The count of a multiply or bounded loop whose source holds `source`.
  static std::int64_t known_count(const Node& node, std::int64_t source) {
    source &= 0xff;
    if (node.op == Op::kMultiply) return source;
    const bool down = std::any_of(node.body.begin(), node.body.end(),
                                  [](const Node& term) { return term.offset == 0 && wrap(term.amount) == -1; });
    return std::min(down ? source : (256 - source) & 0xff, node.amount);
  }

 private:
  static constexpr std::size_t kLimit = 16;
  struct Cell {
    std::int64_t offset = 0, value = 0;  // value as wrap() gives it
  };
  std::array<Cell, kLimit> cells_{};
  std::size_t size_ = 0;
};

// The cells from p[low] to p[high].
struct Span {
  std::int64_t low = 0, high = 0;
  void add(std::int64_t offset) { low = std::min(low, offset), high = std::max(high, offset); }
  void shift(std::int64_t amount) { low -= amount, high -= amount; }  // p moved by `amount`
  bool holds(std::int64_t from, std::int64_t to) const { return low <= from && to <= high; }
  // Where both hold p[0]: the cells both hold.
  void keep_common(const Span& other) { low = std::max(low, other.low), high = std::min(high, other.high); }
};

class Emitter {
 public:
  Emitter(const EmitOptions& options, tinyelf::Program& program, const Source* source)
      : options_(options), program_(program), a_(program.text()), source_(source) {
    if (source_ == nullptr) return;
    file_ = std::filesystem::absolute(source_->path).lexically_normal().string();  // gdb finds it from anywhere
    for (std::size_t i = 0; i < source_->text.size(); ++i)
      if (source_->text[i] == '\n') line_starts_.push_back(i + 1);
  }

  // Each top-level node's subtree is freed once emitted, so that the assembler's memory reuses
  // the IR's instead of adding to it.
  void emit_program(Block program) {
    const std::size_t tape = tape_ = tape_size(options_.tape_cells);
    const std::size_t guard = round_up(static_cast<std::size_t>(reach(program)) + 1, kPageSize);
    const std::size_t buffer = options_.batch_io ? kBufferSize : 1;
    out_buffer_ = program_.bss(buffer, 64);
    in_buffer_ = program_.bss(buffer, 64);
    flush_ = a_.newLabel();
    put_byte_ = a_.newLabel();
    get_byte_ = a_.newLabel();
    on_segv_ = a_.newLabel();
    no_tape_ = a_.newLabel();

    if (source_ != nullptr) name(a_.newLabel(), "_start");
    emit_start(tape, guard, buffer);
    on_tape_ = {0, static_cast<std::int64_t>(tape) - 1};
    const bool outputs = uses(program, Op::kOutput), inputs = uses(program, Op::kInput);
    for (std::size_t i = 0; i < program.size(); ++i) {
      const std::span<const Node> rest = std::span<const Node>(program).subspan(i + 1);
      emit_block(std::span<const Node>(&program[i], 1), false, std::nullopt, rest);
      Block().swap(program[i].body);
    }
    mark_no_source();
    store_deferred();                      // nothing reads the tape any more, but keep it whole
    a_.call(flush_);
    emit_exit(0);
    emit_runtime(outputs, inputs);
  }

 private:
  // Maps the guarded tape, installs the SIGSEGV handler and sets up the buffer registers.
  void emit_start(std::size_t tape, std::size_t guard, std::size_t buffer) {
    using namespace x86;
    a_.mov(eax, kSysMmap);                 // mmap(NULL, guard + tape + guard, PROT_NONE, ...)
    a_.xor_(edi, edi);
    a_.mov(rsi, tape + 2 * guard);
    a_.xor_(edx, edx);                     // PROT_NONE: the guards stay unreadable
    a_.mov(r10d, kMapFlags);
    a_.or_(r8, -1);                        // fd -1
    a_.xor_(r9d, r9d);
    a_.syscall();
    a_.cmp(rax, -4095);                    // -4095..-1 are errno values
    a_.jae(no_tape_);
    a_.lea(rbx, ptr(rax, static_cast<std::int32_t>(guard)));
    a_.mov(rbp, rbx);                      // the first cell, for the multiplies' range checks
    a_.mov(eax, kSysMprotect);             // mprotect(tape, tape size, PROT_READ | PROT_WRITE)
    a_.mov(rdi, rbx);
    a_.mov(rsi, tape);
    a_.mov(edx, kProtReadWrite);
    a_.syscall();
    a_.test(rax, rax);
    a_.jnz(no_tape_);

    a_.push(0);                            // struct kernel_sigaction on the stack: sa_mask = {}
    a_.lea(rax, ptr(on_segv_));
    a_.push(rax);                          // sa_restorer: never used, the handler exits
    a_.push(kSaFlags);                     // sa_flags
    a_.push(rax);                          // sa_handler
    a_.mov(eax, kSysRtSigaction);          // rt_sigaction(SIGSEGV, &action, NULL, sizeof(sigset_t))
    a_.mov(edi, kSigsegv);
    a_.mov(rsi, rsp);
    a_.xor_(edx, edx);
    a_.mov(r10d, 8);
    a_.syscall();
    a_.add(rsp, 32);

    a_.lea(r12, ptr(out_buffer_));
    a_.lea(r13, ptr(out_buffer_, static_cast<std::int32_t>(buffer)));
    a_.lea(r14, ptr(in_buffer_));
    a_.mov(r15, r14);                      // no input read yet
  }

  // bfc -g: the code emitted from here comes from the command at `offset` in the source, at the
  // line and column (in bytes, as diagnostics count them) tinyelf writes into the line table.
  void mark(std::size_t offset) {
    if (source_ == nullptr) return;
    const auto line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - line_starts_.begin();
    program_.line(file_, static_cast<std::uint32_t>(line),
                  static_cast<std::uint32_t>(offset - line_starts_[line - 1] + 1));
  }
  // ... from no command: start-up and runtime code, which debuggers step over.
  void mark_no_source() {
    if (source_ != nullptr) program_.line(file_, 0);
  }
  // Where a loop's jump back comes from: its ']', or its '[' for a loop a pass made.
  static std::size_t closing(const Node& loop) {
    return loop.end_offset > loop.source_offset ? loop.end_offset : loop.source_offset;
  }
  // bfc -g: binds `label` here, if it is new, and names the code from here.
  void name(Label label, std::string_view symbol) {
    if (source_ == nullptr) return;
    if (!a_.code()->isLabelBound(label)) a_.bind(label);
    program_.symbol(label, symbol);
  }

  static x86::Mem cell(std::int64_t offset) { return x86::byte_ptr(x86::rbx, static_cast<std::int32_t>(offset)); }
  static std::int32_t byte(std::int64_t amount) { return static_cast<std::int32_t>(wrap(amount)); }

  // A loop tests its cell before the first round and after each one. Two savings:
  // - a body that ends with p[0] = 0 (a clear, a multiply or a scan of p[0]) runs once at most,
  //   so it needs no test at the end;
  // - if the body's last change to p[0] is an add and nothing after it reads p[0] or moves the
  //   pointer, that add is emitted last and the test reuses its flags (add sets ZF).
  //
  // With cell registers, a body that runs once at most starts with the cells cached before the
  // loop, p[0] among them; a body that can run again starts with none (its top is also reached
  // from its end), so its tests do not cache p[0]. Likewise for known values, except those every
  // round leaves as it found them (see carried_values): a small body that has some is emitted
  // twice, the first round on its own with what is known before the loop, then the loop.
  void emit_loop(const Node& loop) {
    using namespace x86;
    const Block& body = loop.body;
    const std::optional<std::int64_t> entry_value = known(0);
    if (entry_value == 0) return;          // never runs
    store_deferred();
    const Label end = a_.newLabel();
    const bool once = !body.empty() && leaves_zero(body.back());
    if (!entry_value) {                    // a known non-zero p[0] needs no test on entry
      test_cell(0, once);
      a_.je(end);
    }
    CellCache at_end = cache_;             // the cells cached on every way to `end` so far
    if (once) {
      emit_block(body);
      store_deferred();
    } else {
      const std::optional<KnownCells> carried = carried_values(body);
      bool first_round_only = false;
      if (carried) {
        first_round_only = !emit_round(loop, end, false);
        at_end.keep_common(cache_);
        known_ = *carried;
      } else {
        known_.clear();
      }
      if (!first_round_only) {
        // The top is reached from before it and from the end of a round: the cells on the tape
        // then are those both ways know of.
        on_tape_.add(0);                   // just tested, or known
        on_tape_.keep_common(round_reach(body));
        const Label top = a_.newLabel();
        a_.bind(top);
        cache_.clear();
        emit_round(loop, top, true);
      }
    }
    a_.bind(end);
    cache_.keep_common(at_end);
    on_tape_ = {0, 0};                     // every way out of the loop has just read p[0]
  }

  // One round of a body that can run again, and its test: to `target` if p[0] is then non-zero
  // (`again`), or zero. Returns false, with no test, if the round is known to leave p[0] at zero
  // (like [->+<>>-<<], a multiply and then a change elsewhere): the loop ends after it.
  bool emit_round(const Node& loop, Label target, bool again) {
    const Block& body = loop.body;
    if (const std::optional<std::size_t> step = last_step(body)) {
      emit_block(body, true, *step);
      mark(body[*step].source_offset);
      known_.forget(0);                    // an add, whose flags the test takes
      read_next_.reset();
      ahead_ = {};
      add_to_cell(0, body[*step].amount);
      mark(closing(loop));
    } else {
      emit_block(body, true);
      mark(closing(loop));
      if (known(0) == 0) {
        store_deferred();
        return false;
      }
      test_cell(0, false);
    }
    store_deferred();                      // plain moves: the flags stay the test's
    if (again) a_.jnz(target);
    else a_.jz(target);
    return true;
  }

  // The values known at the top of every round of `body` but the first, if there are any and
  // the body is small enough to emit twice: those the first round leaves (from what is known
  // now) and every later round leaves again.
  std::optional<KnownCells> carried_values(const Block& body) const {
    constexpr std::size_t kMaxNodes = 8;
    if (!options_.known_values || node_count(body) > kMaxNodes) return std::nullopt;
    KnownCells top = known_;
    top.apply(body);
    while (!top.empty()) {
      KnownCells common = top;
      KnownCells next = top;
      next.apply(body);
      common.keep_common(next);
      if (common == top) return top;       // a round keeps all of it: true at every top
      top = common;
    }
    return std::nullopt;
  }
  // Cells that are on the tape at the end of any round of `body` (offsets from p then): those the
  // round reaches from its start, or knows the values of (the value came from an access), and
  // its test of p[0]. After a loop or scan inside, only p[0].
  static Span round_reach(const Block& body) {
    Span span;
    for (const Node& node : body) {
      if (node.op == Op::kMove) span.shift(node.amount);
      else if (node.op == Op::kLoop || node.op == Op::kScan) span = {0, 0};
      else span.add(node.offset);          // an add, a set, I/O, a multiply's source
    }
    span.add(0);
    return span;
  }
  static std::size_t node_count(const Block& block) {
    std::size_t count = block.size();
    for (const Node& node : block)
      if (node.op == Op::kLoop) count += node_count(node.body);
    return count;
  }

  std::optional<std::int64_t> known(std::int64_t offset) const {
    if (!options_.known_values) return std::nullopt;
    return known_.find(offset);
  }

  // The cell accesses that go through the cache when cell registers are on. A register holds
  // its cell's value zero-extended, so its 8-bit part is the cell and its 32-bit part the count
  // a multiply needs.
  std::optional<x86::Gp> cached(std::int64_t offset) const {
    if (!options_.cell_registers) return std::nullopt;
    return cache_.find(offset);
  }
  // Only a test that leads into code that may read the cell again caches it: a load that
  // nothing reads again would only cost an instruction.
  //
  // Sets ZF if the cell is zero; `cache`: keep the cell in a register from now on.
  void test_cell(std::int64_t offset, bool cache) {
    on_tape_.add(offset);
    std::optional<x86::Gp> reg = cached(offset);
    if (!reg && !(cache && options_.cell_registers)) return void(a_.cmp(cell(offset), 0));
    if (!reg) {
      reg = take_register(offset);
      a_.movzx(reg->r32(), cell(offset));
    }
    a_.test(reg->r8(), reg->r8());
  }
  // eax = the cell, zero-extended (for a multiply, which clears the cell next; `cache`: for a
  // bounded loop, which leaves it to the node after it to test).
  void load_cell(std::int64_t offset, bool cache = false) {
    on_tape_.add(offset);
    std::optional<x86::Gp> reg = cached(offset);
    if (!reg && cache && options_.cell_registers) {
      reg = take_register(offset);
      a_.movzx(reg->r32(), cell(offset));
    }
    if (reg) a_.mov(x86::eax, reg->r32());
    else a_.movzx(x86::eax, cell(offset));
  }
  // The register of a cell about to change, if it has one or the next node reads the cell: the
  // new value is then in a register when it is read, instead of a store that the read waits on.
  // With deferred stores, also if the code soon touches the cell again (see touched_soon): its
  // changes then add up in the register, stored once.
  std::optional<x86::Gp> register_for_change(std::int64_t offset) {
    const std::optional<x86::Gp> reg = cached(offset);
    if (reg || !options_.cell_registers) return reg;
    if (read_next_ != offset && !(options_.deferred_stores && touched_soon(offset))) return reg;
    const x86::Gp taken = take_register(offset);
    a_.movzx(taken.r32(), cell(offset));
    return taken;
  }
  // The cell takes the value its register holds.
  void store_cell(std::int64_t offset, const x86::Gp& reg) { a_.mov(cell(offset), reg.r8()); }
  // A register for `offset`, after storing the cell whose change it held, if any.
  x86::Gp take_register(std::int64_t offset) {
    const auto [reg, evicted] = cache_.take(offset);
    if (evicted) store_cell(evicted->offset, evicted->reg);
    return reg;
  }
  // The cell's new value is in `reg`: stored now, or with deferred stores when the code next
  // branches, calls or scans (see store_deferred).
  void changed_in_register(std::int64_t offset, const x86::Gp& reg) {
    if (options_.deferred_stores) cache_.mark_dirty(offset);
    else store_cell(offset, reg);
  }
  // Makes the stores deferred so far: before every branch, label, call and scan, so that the
  // tape is up to date wherever paths meet and wherever the runtime or a scan reads it. A program
  // that leaves the tape while a change waits in a register stops with the same output: only
  // the tape, which nothing reads then, lacks the change.
  void store_deferred() {
    cache_.clean([&](std::int64_t offset, const x86::Gp& reg) { store_cell(offset, reg); });
  }
  // Sets ZF if the cell ends at zero.
  void add_to_cell(std::int64_t offset, std::int64_t amount) {
    if (const std::optional<std::int64_t> value = known(offset)) return set_cell(offset, *value + amount);
    on_tape_.add(offset);
    if (const std::optional<x86::Gp> reg = register_for_change(offset)) {
      a_.add(reg->r8(), byte(amount));
      changed_in_register(offset, *reg);
    } else {
      a_.add(cell(offset), byte(amount));
    }
  }
  // cell += reg8 (or -= reg8).
  void add_register_to_cell(std::int64_t offset, const x86::Gp& value, bool subtract) {
    if (const std::optional<x86::Gp> reg = register_for_change(offset)) {
      if (subtract) a_.sub(reg->r8(), value);
      else a_.add(reg->r8(), value);
      changed_in_register(offset, *reg);
    } else if (subtract) {
      a_.sub(cell(offset), value);
    } else {
      a_.add(cell(offset), value);
    }
  }
  // A store alone: the register is let go rather than set too, one instruction instead of two.
  void set_cell(std::int64_t offset, std::int64_t value) {
    if (known(offset) == wrap(value)) return;
    on_tape_.add(offset);
    cache_.forget(offset);
    a_.mov(cell(offset), byte(value));
  }

  // The index of an add to p[0] that can move to the end of `body`: no later node touches p[0]
  // or moves the pointer.
  static std::optional<std::size_t> last_step(const Block& body) {
    for (std::size_t i = body.size(); i-- > 0;) {
      const Node& node = body[i];
      if (node.op == Op::kAdd && node.offset == 0) return i;
      if (node.op == Op::kLoop || node.op == Op::kScan || node.op == Op::kMove || node.offset == 0) return std::nullopt;
      if (node.op == Op::kMultiply || node.op == Op::kBoundedLoop)
        for (const Node& term : node.body)
          if (node.offset + term.offset == 0) return std::nullopt;
    }
    return std::nullopt;
  }

  // For each node of `block` that is a multiply or bounded loop, the cells (offsets from p there)
  // the code after it certainly reaches before any I/O is done or any loop body runs (a loop
  // test, an I/O command's own cell access and, with `tested_at_end`, the test of p[0] at the
  // end of a loop body included). If one of them is off the tape the program stops there with
  // the same output, so a fault on the way changes nothing.
  static std::vector<std::optional<Span>> reached_later(std::span<const Node> block, bool tested_at_end) {
    std::vector<std::optional<Span>> later(block.size());
    const auto multiplies = [](const Node& node) { return node.op == Op::kMultiply || node.op == Op::kBoundedLoop; };
    if (std::none_of(block.begin(), block.end(), multiplies)) return later;
    std::optional<Span> reached;
    if (tested_at_end) reached = Span{0, 0};
    for (std::size_t i = block.size(); i-- > 0;) {
      const Node& node = block[i];
      later[i] = reached;
      switch (node.op) {
        case Op::kMove:
          if (reached) reached->shift(-node.amount);
          break;
        case Op::kInput:
        case Op::kOutput: reached = Span{node.offset, node.offset}; break;
        case Op::kLoop:
        case Op::kScan: reached = Span{0, 0}; break;
        default:  // an add or a set, or the source a multiply reads first
          if (reached) reached->add(node.offset);
          else reached = Span{node.offset, node.offset};
          break;
      }
    }
    return later;
  }

  // The cell the node after block[i] reads before it changes anything, if any (for a loop or a
  // scan, p[0]; the skipped node, an add to p[0], is emitted last).
  static std::optional<std::int64_t> read_next(std::span<const Node> block, std::size_t i,
                                               std::optional<std::size_t> skip, bool tested_at_end) {
    std::size_t next = i + 1;
    if (next == skip) next = block.size();
    if (next >= block.size()) return skip || tested_at_end ? std::optional<std::int64_t>(0) : std::nullopt;
    switch (block[next].op) {
      case Op::kMultiply:
      case Op::kBoundedLoop:
      case Op::kOutput: return block[next].offset;
      case Op::kLoop:
      case Op::kScan: return 0;
      default: return std::nullopt;
    }
  }

  // True if the nodes after the one being emitted (at most kLookahead of them) read, change or
  // set p[offset] (offset from p at that node) before the next loop, scan or I/O, or the loop
  // test at the end of the block does.
  bool touched_soon(std::int64_t offset) const {
    constexpr std::size_t kLookahead = 8;
    const std::span<const Node> rest = ahead_.rest;
    for (std::size_t next = 0; next < rest.size() && next < kLookahead; ++next) {
      const Node& node = rest[next];
      switch (node.op) {
        case Op::kMove: offset -= node.amount; break;
        case Op::kLoop:
        case Op::kScan: return offset == 0;
        case Op::kOutput: return node.offset == offset;
        case Op::kInput: return false;
        case Op::kMultiply:
        case Op::kBoundedLoop:
          for (const Node& term : node.body)
            if (node.offset + term.offset == offset) return true;
          [[fallthrough]];
        default:
          if (node.offset == offset) return true;
          break;
      }
    }
    return rest.size() <= kLookahead && ahead_.tested_at_end && offset == 0;
  }

  // `tested_at_end`: `block` is the body of a loop that tests p[0] after it. `following`: the nodes
  // after `block` (the rest of the program, for the top level's nodes, emitted one at a time).
  void emit_block(std::span<const Node> block, bool tested_at_end = false,
                  std::optional<std::size_t> skip = std::nullopt, std::span<const Node> following = {}) {
    using namespace x86;
    const std::vector<std::optional<Span>> later = reached_later(block, tested_at_end);
    for (std::size_t i = 0; i < block.size(); ++i) {
      if (i == skip) continue;
      const Node& node = block[i];
      read_next_ = read_next(block, i, skip, tested_at_end);
      ahead_ = {i + 1 < block.size() ? block.subspan(i + 1) : following, tested_at_end};
      mark(node.source_offset);
      const KnownCells known_before = known_;
      switch (node.op) {
        case Op::kAdd: add_to_cell(node.offset, node.amount); break;
        case Op::kSet: set_cell(node.offset, node.amount); break;
        case Op::kMove:
          a_.add(rbx, static_cast<std::int32_t>(node.amount));
          cache_.shift(node.amount);
          on_tape_.shift(node.amount);
          break;
        case Op::kOutput:
          on_tape_.add(node.offset);
          if (const std::optional<Gp> reg = cached(node.offset)) a_.mov(eax, reg->r32());
          else a_.mov(al, cell(node.offset));
          store_deferred();
          a_.call(put_byte_);
          cache_.forget_clobbered_by_calls();
          break;
        case Op::kInput:
          on_tape_.add(node.offset);
          store_deferred();
          a_.mov(al, cell(node.offset));   // the value kept at end of input (and a tape check)
          a_.call(get_byte_);
          a_.mov(cell(node.offset), al);
          cache_.forget_clobbered_by_calls();
          cache_.forget(node.offset);
          break;
        case Op::kLoop: emit_loop(node); break;
        case Op::kScan:
          if (known(0) == 0) break;        // stays put
          emit_scan(node.amount);
          cache_.clear();                  // p moved an unknown distance
          on_tape_ = {0, 0};
          break;
        case Op::kMultiply:
        case Op::kBoundedLoop:
          emit_multiply(node, later[i], i + 1 < block.size() && i + 1 != skip && stores_source(node, block[i + 1]));
          break;
      }
      known_ = known_before;
      if (options_.known_values) known_.apply(node);
    }
  }

  // while (p[0] != 0) p += step.
  void emit_scan(std::int64_t step) {
    using namespace x86;
    store_deferred();
    if (options_.vector_scans && is_vector_step(step)) return emit_vector_scan(step);
    if (options_.vector_scans && is_window_step(step)) return emit_window_scan(step);
    const Label top = a_.newLabel(), end = a_.newLabel();
    a_.cmp(cell(0), 0);
    a_.je(end);
    a_.bind(top);
    a_.add(rbx, static_cast<std::int32_t>(step));
    a_.cmp(cell(0), 0);
    a_.jne(top);
    a_.bind(end);
  }

  // Steps of 3 to 32 cells but 4 and 8, on a tape whose size minus 64 fits a 32-bit compare.
  bool is_window_step(std::int64_t step) const {
    const std::int64_t size = std::abs(step);
    return size >= 3 && size <= 32 && !is_vector_step(step) && tape_ - kWindow <= INT32_MAX;
  }

  // A scan with another step tests the cells a whole number of steps from p in a 64-byte window
  // at a time (8 cells for a step of 9): four unaligned 16-byte loads compared with zero make a
  // 64-bit mask of the window's zero cells (pcmpeqb, pmovmskb), a constant keeps the bits at
  // whole steps from p, and the first (going left: last) one left is where p stops. A window may
  // end in a guard page, so one is read only when it lies inside the tape: near the end of the
  // tape the scan goes on one cell at a time, as the plain loop does. The first window's worth
  // of cells is tested one at a time (see emit_window_scan_routine). The windows are a routine
  // per step, after the main code (mandel.b has 124 scans of 9 cells); the scan calls it only
  // if p[0] is not zero already.
  void emit_window_scan(std::int64_t step) {
    using namespace x86;
    const Label done = a_.newLabel();
    a_.cmp(cell(0), 0);
    a_.je(done);
    auto routine = std::find_if(window_scans_.begin(), window_scans_.end(),
                                [step](const WindowScan& scan) { return scan.step == step; });
    if (routine == window_scans_.end()) routine = window_scans_.insert(window_scans_.end(), {step, a_.newLabel()});
    a_.call(routine->entry);
    a_.bind(done);
  }

  // The routine of emit_window_scan for `step`: p moves to the first zero cell a whole number of
  // steps away. Clobbers rax, rcx, rdx, rsi and xmm0 to xmm4.
  void emit_window_scan_routine(std::int64_t step) {
    using namespace x86;
    const bool forward = step > 0;
    const std::int64_t cells = (kWindow - 1) / std::abs(step) + 1;  // cells in a window
    std::uint64_t steps = 0;               // bit i: the cell at window start + i is whole steps from p
    for (std::int64_t k = 0; k < cells; ++k) steps |= std::uint64_t{1} << (forward ? k * step : kWindow - 1 + k * step);
    const std::int32_t start = forward ? 0 : -static_cast<std::int32_t>(kWindow - 1);  // the window from p
    const Label window = a_.newLabel(), found = a_.newLabel(), one_cell = a_.newLabel(), done = a_.newLabel();
    a_.pxor(xmm0, xmm0);
    a_.mov(rsi, steps);
    // p[0] is not zero. The next window's worth of cells is tested one at a time: those are the
    // cells the code before the scan most likely just stored (a loop that moved by the same step),
    // and a byte load gets a recent byte store's value forwarded, where a 16-byte load over it
    // waits for the store to reach the cache (store-to-load forwarding fails). mandel.b ran 0.98
    // and 0.99 times as long as with windows from the first step on (paired runs, 31 rounds).
    a_.add(rbx, static_cast<std::int32_t>(step));
    for (std::int64_t k = 0; k < cells; ++k) {
      a_.cmp(cell(0), 0);
      a_.je(done);
      a_.add(rbx, static_cast<std::int32_t>(step));
    }
    a_.bind(window);
    a_.lea(rcx, cell(start));
    a_.sub(rcx, rbp);
    a_.cmp(rcx, static_cast<std::int32_t>(tape_ - kWindow));  // the window in [tape, tape end)
    a_.ja(one_cell);
    const std::array<Xmm, 4> blocks = {xmm1, xmm2, xmm3, xmm4};
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      a_.movdqu(blocks[i], cell(start + 16 * static_cast<std::int32_t>(i)));
      a_.pcmpeqb(blocks[i], xmm0);
    }
    a_.pmovmskb(eax, xmm1);                // rax = bits 0-15 | 16-31 | 32-47 | 48-63
    a_.pmovmskb(ecx, xmm2);
    a_.shl(ecx, 16);
    a_.or_(eax, ecx);
    a_.pmovmskb(ecx, xmm3);
    a_.pmovmskb(edx, xmm4);
    a_.shl(edx, 16);
    a_.or_(ecx, edx);
    a_.shl(rcx, 32);
    a_.or_(rax, rcx);
    a_.and_(rax, rsi);
    a_.jnz(found);
    a_.add(rbx, static_cast<std::int32_t>(cells * step));
    a_.jmp(window);
    a_.bind(found);
    if (forward) {
      a_.bsf(rax, rax);
      a_.add(rbx, rax);
    } else {
      a_.bsr(rax, rax);
      a_.lea(rbx, ptr(rbx, rax, 0, start));
    }
    a_.ret();
    a_.bind(one_cell);
    a_.cmp(cell(0), 0);
    a_.je(done);
    a_.add(rbx, static_cast<std::int32_t>(step));
    a_.jmp(one_cell);
    a_.bind(done);
    a_.ret();
  }

  static bool is_vector_step(std::int64_t step) {
    const std::int64_t size = std::abs(step);
    return size == 1 || size == 2 || size == 4 || size == 8;
  }

  // The scan 16 cells at a time: each aligned 16-byte block from the one holding p is compared
  // with zero (pcmpeqb, pmovmskb: bit i set if cell i of the block is zero), the cells the scan
  // does not stop on are masked off (those before p, or after p going left, and those not a
  // whole number of steps from p), and the first (last, going left) bit left is where p stops.
  // An aligned block never straddles a page and the tape is whole pages, so a block holding a
  // tape cell is all tape: the scan reads a guard page, and faults like the one-cell loop, only
  // when no cell it would stop on is left between p and that end of the tape.
  void emit_vector_scan(std::int64_t step) {
    using namespace x86;
    const Label found = a_.newLabel(), next = a_.newLabel();
    const bool forward = step > 0;
    // The cells a whole number of steps from p: a 16-bit pattern with a bit every `step`
    // cells, rotated to p's position in its block (step divides 16, so the pattern holds for
    // every block).
    const std::uint32_t pattern = std::abs(step) == 1 ? 0xffff : std::abs(step) == 2 ? 0x5555
                                                     : std::abs(step) == 4 ? 0x1111 : 0x0101;
    a_.pxor(xmm0, xmm0);
    a_.mov(rax, rbx);
    a_.and_(rax, -16);                     // the block holding p
    a_.mov(ecx, ebx);
    a_.and_(ecx, 15);                      // p's place in it
    if (pattern != 0xffff) {
      a_.mov(esi, pattern);
      a_.rol(si, cl);
    }
    auto zero_cells = [&] {                // edx = the block's zero cells the scan can stop on
      a_.movdqa(xmm1, ptr(rax));
      a_.pcmpeqb(xmm1, xmm0);
      a_.pmovmskb(edx, xmm1);
      if (pattern != 0xffff) a_.and_(edx, esi);
    };
    zero_cells();
    if (forward) {
      a_.mov(edi, -1);
      a_.shl(edi, cl);                     // cells from p on: bits p's place to 15
    } else {
      a_.mov(edi, 2);
      a_.shl(edi, cl);
      a_.dec(edi);                         // cells up to p: bits 0 to p's place
    }
    a_.and_(edx, edi);
    a_.jnz(found);
    a_.bind(next);                         // the next block in the scan's direction
    if (forward) a_.add(rax, 16);
    else a_.sub(rax, 16);
    zero_cells();
    a_.test(edx, edx);
    a_.jz(next);
    a_.bind(found);                        // the first (going left: last) bit is where p stops
    if (forward) a_.bsf(edx, edx);
    else a_.bsr(edx, edx);
    a_.lea(rbx, ptr(rax, rdx));
  }

  // p[t] += count * factor for each term t, where for a kMultiply count = p[src] and p[src] is
  // then 0; for a kBoundedLoop count = min(rounds until p[src] is 0, limit), and p[src] moves by
  // its step that many times. A branch around the terms for count == 0 is taken at random and
  // mispredicted often (it cost mandel.b a third of its time), so terms that only add run
  // unconditionally: adding 0 changes nothing. But they touch cells the program might not touch,
  // so this is only done when all of them are on the tape: known to be, because the code since
  // the last loop test reached cells on both sides of them, or the code after the multiply
  // will reach them or cells beyond them anyway (see reached_later); or else by a range check that is
  // nearly always true and well predicted; near the ends of the tape an out-of-line test of the
  // count decides. Terms that assign a constant keep the plain branch.
  // True if `next`, right after the multiply `node`, stores a non-zero value in its source: with
  // known values, an add to it (known to be 0) is such a store, so the multiply need not clear it.
  bool stores_source(const Node& node, const Node& next) const {
    return options_.known_values && node.op == Op::kMultiply && next.offset == node.offset &&
           (next.op == Op::kAdd || next.op == Op::kSet) && wrap(next.amount) != 0;
  }

  // `source_stored`: the next node stores in p[src] (see stores_source).
  void emit_multiply(const Node& node, const std::optional<Span>& reached_later, bool source_stored) {
    using namespace x86;
    if (node.body.empty()) {                // [->[->+<]<] leaves only p[0] = 0 to do
      set_cell(node.offset, 0);
      return;
    }
    const bool bounded = node.op == Op::kBoundedLoop;
    const Label end = a_.newLabel();
    std::int64_t low = 0, high = 0, step = 0;  // the targets' offsets from the source; bounded: p[src]'s step
    for (const Node& term : node.body) {
      low = std::min(low, term.offset);
      high = std::max(high, term.offset);
      if (term.offset == 0) step = term.amount;
    }
    if (const std::optional<std::int64_t> source = known(node.offset))
      return emit_known_multiply(node, KnownCells::known_count(node, *source), step);
    const std::int64_t last_start = static_cast<std::int64_t>(tape_) - 1 - (high - low);
    const bool adds_only =
        std::none_of(node.body.begin(), node.body.end(), [](const Node& term) { return term.op == Op::kSet; });
    load_cell(node.offset, bounded);
    if (bounded) {                          // eax = the rounds until p[src] is 0, at most the limit
      if (step == 1) {
        a_.neg(al);
        a_.movzx(eax, al);
      }
      a_.mov(ecx, static_cast<std::int32_t>(node.amount));
      a_.cmp(eax, ecx);
      a_.cmova(eax, ecx);
    }
    Span safe = on_tape_;                   // cells the terms may touch: see reached_later()
    if (reached_later) safe.add(reached_later->low), safe.add(reached_later->high);
    const bool skippable = !adds_only || !safe.holds(node.offset + low, node.offset + high);
    if (skippable) store_deferred();
    if (!skippable) {
      // no check needed
    } else if (adds_only && last_start >= 0 && last_start <= INT32_MAX) {
      EdgeCheck check{a_.newLabel(), a_.newLabel(), end};
      a_.lea(rcx, cell(node.offset + low));  // the lowest target must be in [tape, tape + last_start]
      a_.sub(rcx, rbp);
      a_.cmp(rcx, static_cast<std::int32_t>(last_start));
      a_.ja(check.entry);
      a_.bind(check.resume);
      edge_checks_.push_back(check);
    } else {
      a_.test(eax, eax);
      a_.jz(end);
    }
    // The cells the terms newly cache, or know to be on the tape, are not so on the paths that
    // skip them.
    const Span on_tape = on_tape_;
    const CellCache cached_before = cache_;
    for (const Node& term : node.body) {
      if (term.offset == 0) continue;       // a bounded loop's step: last
      const std::int64_t target = node.offset + term.offset;
      const std::int32_t factor = byte(term.amount);
      if (term.op == Op::kSet) {
        set_cell(target, factor);
      } else if (!term.body.empty()) {      // levels that differ: what the first eax rounds add
        a_.lea(rcx, ptr(added_table(term)));
        a_.mov(dl, byte_ptr(rcx, rax));
        add_register_to_cell(target, dl, false);
      } else if (known(target) == 0) {      // a store of the product: 0 if the count is 0
        if (factor != 1) times_count(factor);
        cache_.forget(target);
        a_.mov(cell(target), factor == 1 ? al : dl);
      } else if (factor == 1 || factor == -1) {
        add_register_to_cell(target, al, factor == -1);
      } else {
        times_count(factor);
        add_register_to_cell(target, dl, false);
      }
    }
    on_tape_ = on_tape;
    if (bounded) add_register_to_cell(node.offset, al, step == -1);
    else if (!source_stored) set_cell(node.offset, 0);
    if (skippable) store_deferred();
    a_.bind(end);
    if (skippable) cache_.keep_common(cached_before);
  }

  // A table in rodata of what a term with its amounts round by round adds in 0, 1, 2, ... rounds.
  Label added_table(const Node& term) {
    std::string table;
    for (std::size_t rounds = 0; rounds <= term.body.size(); ++rounds)
      table += static_cast<char>(added_in(term, static_cast<std::int64_t>(rounds)));
    return program_.rodata(table);
  }

  // edx = eax * factor: a lea (one cycle) for 2, 3, 5 and 9, else an imul (three).
  void times_count(std::int32_t factor) {
    using namespace x86;
    if (factor == 2 || factor == 3 || factor == 5 || factor == 9)
      a_.lea(edx, ptr(rax, rax, factor == 2 || factor == 3 ? factor - 2 : factor == 5 ? 2 : 3));
    else a_.imul(edx, eax, factor);
  }

  // A multiply whose count is known at compile time: constants added and stored.
  void emit_known_multiply(const Node& node, std::int64_t count, std::int64_t step) {
    if (count == 0) return;                // p[src] is 0 already, or the loop has no round to run
    for (const Node& term : node.body) {
      if (term.offset == 0) continue;
      if (term.op == Op::kSet) set_cell(node.offset + term.offset, term.amount);
      else add_to_cell(node.offset + term.offset, added_in(term, count));
    }
    if (node.op == Op::kBoundedLoop) add_to_cell(node.offset, step * count);
    else set_cell(node.offset, 0);
  }

  void emit_exit(int status) {
    using namespace x86;
    if (status == 0) a_.xor_(edi, edi);
    else a_.mov(edi, status);
    a_.mov(eax, kSysExitGroup);
    a_.syscall();
  }

  void emit_message_and_exit(std::string_view message, int status) {
    using namespace x86;
    const Label text = program_.rodata(message);
    a_.mov(eax, kSysWrite);
    a_.mov(edi, 2);                        // stderr
    a_.lea(rsi, ptr(text));
    a_.mov(edx, static_cast<std::int32_t>(message.size()));
    a_.syscall();
    emit_exit(status);
  }

  // The subroutines the commands call, after the main code.
  void emit_runtime(bool outputs, bool inputs) {
    using namespace x86;
    // put_byte: appends al to the output buffer, flushing it when full.
    if (outputs) {
      a_.bind(put_byte_);
      name(put_byte_, "put_byte");
      a_.mov(ptr(r12), al);
      a_.inc(r12);
      a_.cmp(r12, r13);
      a_.jae(flush_);                      // tail call
      a_.ret();
    }

    // flush: writes the buffer out (write may take only part of it) and empties it.
    const Label next = a_.newLabel(), done = a_.newLabel(), failed = a_.newLabel();
    a_.bind(flush_);
    name(flush_, "flush");
    a_.lea(rsi, ptr(out_buffer_));
    a_.bind(next);
    a_.mov(rdx, r12);
    a_.sub(rdx, rsi);
    a_.jz(done);
    a_.mov(eax, kSysWrite);
    a_.mov(edi, 1);                        // stdout
    a_.syscall();
    a_.test(rax, rax);
    a_.jle(failed);
    a_.add(rsi, rax);
    a_.jmp(next);
    a_.bind(done);
    a_.lea(r12, ptr(out_buffer_));
    a_.ret();
    a_.bind(failed);
    emit_message_and_exit(kWriteFailedMessage, kExitWriteFailed);

    // get_byte: al = the next input byte; at end of input al per EmitOptions::eof. The output
    // is flushed before reading blocks, so a prompt is visible when the program waits.
    if (inputs) {
      const Label have = a_.newLabel(), eof = a_.newLabel();
      a_.bind(get_byte_);
      name(get_byte_, "get_byte");
      a_.cmp(r14, r15);
      a_.jb(have);
      a_.push(rax);
      a_.call(flush_);
      a_.mov(eax, kSysRead);
      a_.xor_(edi, edi);                   // stdin
      a_.lea(rsi, ptr(in_buffer_));
      a_.mov(edx, static_cast<std::int32_t>(options_.batch_io ? kBufferSize : 1));
      a_.syscall();
      a_.test(rax, rax);
      a_.jle(eof);                         // end of input, or a read error: treated alike
      a_.lea(r14, ptr(in_buffer_));
      a_.lea(r15, ptr(r14, rax));
      a_.pop(rax);
      a_.bind(have);
      a_.mov(al, ptr(r14));
      a_.inc(r14);
      a_.ret();
      a_.bind(eof);
      a_.pop(rax);
      if (options_.eof == Eof::kZero) a_.xor_(eax, eax);
      if (options_.eof == Eof::kMinusOne) a_.mov(eax, 255);
      a_.ret();
    }

    for (const WindowScan& scan : window_scans_) {
      a_.bind(scan.entry);
      name(scan.entry, fmt::format("scan_{}", scan.step));
      emit_window_scan_routine(scan.step);
    }

    // The multiplies' slow path near the ends of the tape: skip the terms if the count is 0.
    for (const EdgeCheck& check : edge_checks_) {
      a_.bind(check.entry);
      if (&check == &edge_checks_.front()) name(check.entry, "tape_edge_checks");
      a_.test(eax, eax);
      a_.jz(check.end);
      a_.jmp(check.resume);
    }

    // on_segv(signal, info, ucontext): only a tape access can fault, so the pointer left the
    // tape. Flush what the program printed so far (r12 as it was at the fault), then report.
    a_.bind(on_segv_);
    name(on_segv_, "on_segv");
    a_.mov(r12, ptr(rdx, kUcontextR12));
    a_.call(flush_);
    emit_message_and_exit(kOffTapeMessage, kExitOffTape);

    a_.bind(no_tape_);
    name(no_tape_, "no_tape");
    emit_message_and_exit(kNoTapeMessage, kExitNoTape);
  }

  const EmitOptions& options_;
  tinyelf::Program& program_;
  x86::Assembler& a_;
  const Source* source_;            // bfc -g: mark lines and name routines
  std::string file_;                // the source's absolute path
  std::vector<std::size_t> line_starts_{0};  // offset of each line's first byte
  Label out_buffer_, in_buffer_;
  Label flush_, put_byte_, get_byte_, on_segv_, no_tape_;
  std::size_t tape_ = 0;  // cells
  CellCache cache_;       // with cell registers: the cells held in registers at this point
  // Cells known to be on the tape here: the tape has no holes, so two cells accessed since p
  // last moved by an unknown distance, and every cell between them.
  Span on_tape_;
  KnownCells known_;      // with known values: the cells whose values the code knows here
  std::optional<std::int64_t> read_next_;  // the cell the next node reads first: see read_next()
  // The nodes after the one being emitted, and whether a loop test follows them: see touched_soon().
  struct Ahead {
    std::span<const Node> rest;
    bool tested_at_end = false;
  } ahead_;
  // Out-of-line code for multiplies near the ends of the tape: {entry, resume, end}.
  struct EdgeCheck {
    Label entry, resume, end;
  };
  std::vector<EdgeCheck> edge_checks_;
  // The routines of the window scans, one per step: see emit_window_scan.
  struct WindowScan {
    std::int64_t step;
    Label entry;
  };
  std::vector<WindowScan> window_scans_;
};

}  // namespace

std::size_t tape_size(std::size_t cells) { return round_up(std::max<std::size_t>(cells, 1), kPageSize); }

void emit_x86(Block program, const EmitOptions& options, tinyelf::Program& out, const Source* source) {
  Emitter(options, out, source).emit_program(std::move(program));
}

}  // namespace bfc
