//===- PlanOps.cpp - the plan dialect: verifiers and formats --------------===//
#include "llmc/Dialect/Plan/IR/PlanOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace llmc;
using namespace llmc::plan;
using schema::BufferSpace;
using schema::StepDim;

#include "llmc/Dialect/Plan/IR/PlanOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "llmc/Dialect/Plan/IR/PlanAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "llmc/Dialect/Plan/IR/PlanOps.cpp.inc"

void PlanDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "llmc/Dialect/Plan/IR/PlanOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "llmc/Dialect/Plan/IR/PlanAttrs.cpp.inc"
      >();
}

PlanDialect &plan::dialect(MLIRContext *ctx) {
  return *ctx->getOrLoadDialect<PlanDialect>();
}

bool plan::isKernel(Operation *op) {
  return dialect(op->getContext()).getKernelAttrHelper().isAttrPresent(op);
}

LogicalResult PlanDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  if (attribute.getName() == getKernelAttrHelper().getName()) {
    if (!isa<UnitAttr>(attribute.getValue()) || !isa<FunctionOpInterface>(op))
      return op->emitOpError()
             << "attribute 'plan.kernel' must be a unit attribute on a "
                "function";
    return success();
  }
  return op->emitOpError() << "unknown plan attribute '"
                           << attribute.getName().getValue() << "'";
}

static StringRef str(std::string_view s) {
  return StringRef(s.data(), s.size());
}

//===----------------------------------------------------------------------===//
// BufferAttr
//===----------------------------------------------------------------------===//

LogicalResult BufferAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 BufferSpace space, int64_t index,
                                 MemRefType type, ArrayRef<StepDim> dims) {
  if (!type || !type.getLayout().isIdentity())
    return emitError() << "buffer type must be a memref with the identity "
                          "layout";
  if (static_cast<int64_t>(dims.size()) !=
      static_cast<int64_t>(type.getNumDynamicDims()))
    return emitError() << "buffer " << type << " has "
                       << type.getNumDynamicDims()
                       << " dynamic dimensions but names " << dims.size();
  if (index < 0)
    return emitError() << "buffer index must be non-negative";
  Type elem = type.getElementType();
  switch (space) {
  case BufferSpace::Weights:
  case BufferSpace::Arena:
    if (index % schema::kBufferAlignment != 0)
      return emitError() << "buffer offset " << index
                         << " is not a multiple of "
                         << schema::kBufferAlignment;
    if (space == BufferSpace::Weights && !type.hasStaticShape())
      return emitError() << "weights have static shapes";
    break;
  case BufferSpace::Kv:
    if (type.getRank() != 4 ||
        !(elem.isF32() || elem.isF16() || elem.isBF16()) ||
        !type.isDynamicDim(0) || dims.size() != 1 ||
        dims[0] != StepDim::KvBlocks)
      return emitError() << "a KV cache buffer is memref<?xBxHxDxf32> "
                            "(or f16, bf16) [kv_blocks], got "
                         << type;
    break;
  case BufferSpace::Input:
    if (index >= static_cast<int64_t>(schema::kNumStepInputs) ||
        !elem.isInteger(32))
      return emitError() << "an input buffer is one of the step's i32 "
                            "inputs";
    break;
  case BufferSpace::Output:
    if (index != 0 || type.getRank() != 2 || !elem.isF32())
      return emitError() << "the output buffer is the f32 logits";
    break;
  }
  return success();
}

void BufferAttr::printBody(AsmPrinter &p) const {
  switch (getSpace()) {
  case BufferSpace::Weights:
  case BufferSpace::Arena:
    p << str(schema::nameOf(getSpace())) << " + " << getIndex();
    break;
  case BufferSpace::Kv:
    p << "kv " << getIndex();
    break;
  case BufferSpace::Input:
    p << str(schema::nameOf(static_cast<schema::StepInput>(getIndex())));
    break;
  case BufferSpace::Output:
    p << "logits";
    break;
  }
  p << " : " << getType();
  if (!getDims().empty()) {
    p << " [";
    llvm::interleaveComma(getDims(), p,
                          [&](StepDim d) { p << str(schema::nameOf(d)); });
    p << "]";
  }
}

BufferAttr BufferAttr::parseBody(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef key;
  if (parser.parseKeyword(&key))
    return {};
  BufferSpace space;
  int64_t index = 0;
  if (key == "weights" || key == "arena") {
    space = key == "weights" ? BufferSpace::Weights : BufferSpace::Arena;
    if (parser.parsePlus() || parser.parseInteger(index))
      return {};
  } else if (key == "kv") {
    space = BufferSpace::Kv;
    if (parser.parseInteger(index))
      return {};
  } else if (key == "logits") {
    space = BufferSpace::Output;
  } else if (auto input = schema::enumFromName<schema::StepInput>(
                 std::string_view(key.data(), key.size()))) {
    space = BufferSpace::Input;
    index = static_cast<int64_t>(*input);
  } else {
    parser.emitError(loc) << "unknown buffer '" << key
                          << "' (weights + N, arena + N, kv N, a step input "
                             "or logits)";
    return {};
  }
  MemRefType type;
  if (parser.parseColon() || parser.parseType(type))
    return {};
  SmallVector<StepDim> dims;
  if (succeeded(parser.parseOptionalLSquare())) {
    if (parser.parseCommaSeparatedList([&]() -> ParseResult {
          StringRef name;
          SMLoc at = parser.getCurrentLocation();
          if (parser.parseKeyword(&name))
            return failure();
          auto d = schema::enumFromName<StepDim>(
              std::string_view(name.data(), name.size()));
          if (!d)
            return parser.emitError(at)
                   << "unknown step dimension '" << name << "'";
          dims.push_back(*d);
          return success();
        }) ||
        parser.parseRSquare())
      return {};
  }
  return BufferAttr::getChecked([&] { return parser.emitError(loc); },
                                parser.getContext(), space, index, type,
                                ArrayRef<StepDim>(dims));
}

void BufferAttr::print(AsmPrinter &p) const {
  p << "<";
  printBody(p);
  p << ">";
}

Attribute BufferAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  BufferAttr b = parseBody(parser);
  if (!b || parser.parseGreater())
    return {};
  return b;
}

BufferAttr BufferAttr::withType(MemRefType type, ArrayRef<StepDim> dims) const {
  return BufferAttr::get(getContext(), getSpace(), getIndex(), type, dims);
}

//===----------------------------------------------------------------------===//
// ExtentAttr
//===----------------------------------------------------------------------===//

LogicalResult ExtentAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t scale, std::optional<StepDim>) {
  if (scale < 1)
    return emitError() << "extent must be at least 1 work item, got " << scale;
  return success();
}

static void printExtent(AsmPrinter &p, ExtentAttr e) {
  if (!e.getDim()) {
    p << e.getScale();
    return;
  }
  if (e.getScale() != 1)
    p << e.getScale() << " x ";
  p << str(schema::nameOf(*e.getDim()));
}

static ExtentAttr parseExtent(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t scale = 1;
  std::optional<StepDim> dim;
  OptionalParseResult num = parser.parseOptionalInteger(scale);
  if (num.has_value() && failed(*num))
    return {};
  bool wantDim = !num.has_value();
  if (num.has_value() && succeeded(parser.parseOptionalKeyword("x")))
    wantDim = true;
  if (wantDim) {
    StringRef name;
    if (parser.parseKeyword(&name))
      return {};
    dim = schema::enumFromName<StepDim>(
        std::string_view(name.data(), name.size()));
    if (!dim) {
      parser.emitError(loc) << "unknown step dimension '" << name << "'";
      return {};
    }
  }
  return ExtentAttr::getChecked([&] { return parser.emitError(loc); },
                                parser.getContext(), scale, dim);
}

void ExtentAttr::print(AsmPrinter &p) const {
  p << "<";
  printExtent(p, *this);
  p << ">";
}

Attribute ExtentAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  ExtentAttr e = parseExtent(parser);
  if (!e || parser.parseGreater())
    return {};
  return e;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

static LogicalResult verifyBinding(Operation *op, TensorType tensor,
                                   MemRefType memref) {
  if (tensor.getShape() != memref.getShape() ||
      tensor.getElementType() != memref.getElementType())
    return op->emitOpError()
           << "tensor " << tensor << " does not match buffer " << memref;
  return success();
}

LogicalResult LoadOp::verify() {
  return verifyBinding(*this, getResult().getType(), getSource().getType());
}

LogicalResult StoreOp::verify() {
  return verifyBinding(*this, getValue().getType(), getDest().getType());
}

LogicalResult ProgramOp::verify() {
  int64_t end = 0;
  for (Attribute a : getWeights()) {
    auto w = cast<WeightAttr>(a);
    if (w.getOffset() < end || w.getOffset() % schema::kBufferAlignment != 0)
      return emitOpError() << "weight '" << w.getRecipe().getName()
                           << "' at offset " << w.getOffset()
                           << " overlaps the previous one or is unaligned";
    end = w.getOffset() + w.getRecipe().getType().getNumElements() *
                              w.getRecipe().getType().getElementTypeBitWidth() /
                              8;
  }
  if (end > static_cast<int64_t>(getWeightsBytes()))
    return emitOpError() << "weights end at byte " << end
                         << " past weights_bytes " << getWeightsBytes();
  for (Attribute a : getKvCaches()) {
    auto t = dyn_cast<RankedTensorType>(cast<TypeAttr>(a).getValue());
    if (!t || t.getRank() != 4 || !t.isDynamicDim(0))
      return emitOpError() << "kv_caches must be tensor<?xBxHxDxf32> types";
  }
  for (Operation &op : getBlock())
    if (!isa<LaunchOp, CollectiveOp>(op))
      return op.emitOpError() << "is not a plan entry";
  return success();
}

LogicalResult CollectiveOp::verify() {
  StringRef kind = getKind();
  bool p2p = kind == "send" || kind == "recv";
  if (kind != "all_reduce" && kind != "all_gather" && !p2p)
    return emitOpError() << "kind '" << kind
                         << "' is not all_reduce, all_gather, send or recv";
  size_t want = p2p ? 1 : 2;
  if (getArgs().size() != want)
    return emitOpError() << "takes "
                         << (p2p ? "one buffer" : "two buffers (input, output)")
                         << ", got " << getArgs().size();
  if ((kind == "all_gather") != getAxis().has_value())
    return emitOpError() << "axis is required by all_gather and only by it";
  if (p2p != getPeer().has_value())
    return emitOpError()
           << "peer is required by send and recv and only by them";
  if (getPeer() && *getPeer() < 0)
    return emitOpError() << "peer must be a pipeline stage >= 0, got "
                         << *getPeer();
  return success();
}

LogicalResult LaunchOp::verify() {
  if (std::optional<int64_t> t = getThreads())
    if (*t < 32 || *t > 1024 || *t % 32 != 0)
      return emitOpError() << "threads (" << *t
                           << ") must be a multiple of 32 in [32, 1024]";
  return success();
}

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &symbols) {
  Operation *kernel =
      symbols.lookupNearestSymbolFrom(getOperation(), getKernelAttr());
  if (!kernel)
    return emitOpError() << "kernel " << getKernelAttr() << " does not exist";
  auto func = dyn_cast<func::FuncOp>(kernel);
  if (!func)
    return success(); // lowered past func.func (e.g. llvm.func)
  if (!isKernel(func))
    return emitOpError() << "callee " << getKernelAttr()
                         << " is not marked plan.kernel";
  // A target may append arguments of its own (the CPU's work range).
  if (func.getNumArguments() < getArgs().size())
    return emitOpError() << "passes " << getArgs().size() << " buffers to "
                         << getKernelAttr() << ", which takes "
                         << func.getNumArguments();
  for (auto [i, a] : llvm::enumerate(getArgs())) {
    MemRefType want = cast<BufferAttr>(a).getType();
    if (func.getArgumentTypes()[i] != want)
      return emitOpError() << "buffer #" << i << " is " << want << " but "
                           << getKernelAttr() << " takes "
                           << func.getArgumentTypes()[i];
  }
  return success();
}

void LaunchOp::print(OpAsmPrinter &p) {
  p << " ";
  p.printAttributeWithoutType(getKernelAttr());
  p << "(";
  llvm::interleaveComma(getArgs(), p,
                        [&](Attribute a) { cast<BufferAttr>(a).printBody(p); });
  p << ") over ";
  printExtent(p, getExtent());
  if (std::optional<int64_t> t = getThreads())
    p << " threads " << *t;
  p.printOptionalAttrDict((*this)->getAttrs(),
                          {"kernel", "args", "extent", "threads"});
}

ParseResult LaunchOp::parse(OpAsmParser &parser, OperationState &result) {
  SymbolRefAttr kernel;
  if (parser.parseAttribute(kernel))
    return failure();
  SmallVector<Attribute> args;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Paren,
                                     [&]() -> ParseResult {
                                       BufferAttr b =
                                           BufferAttr::parseBody(parser);
                                       if (!b)
                                         return failure();
                                       args.push_back(b);
                                       return success();
                                     }) ||
      parser.parseKeyword("over"))
    return failure();
  ExtentAttr extent = parseExtent(parser);
  if (!extent)
    return failure();
  if (succeeded(parser.parseOptionalKeyword("threads"))) {
    int64_t threads;
    if (parser.parseInteger(threads))
      return failure();
    result.addAttribute(
        "threads",
        IntegerAttr::get(IntegerType::get(parser.getContext(), 64), threads));
  }
  if (parser.parseOptionalAttrDict(result.attributes))
    return failure();
  Builder b(parser.getContext());
  result.addAttribute("kernel", kernel);
  result.addAttribute("args", b.getArrayAttr(args));
  result.addAttribute("extent", extent);
  return success();
}
