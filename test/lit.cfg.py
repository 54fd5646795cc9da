# lit configuration for the llmc compiler tests.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "LLMC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "tools"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.llmc_obj_root, "test")

config.substitutions.append(("%llmc_src_root", config.llmc_src_root))
config.substitutions.append(("%llmc_tools_dir", config.llmc_tools_dir))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(
    ("%expect-exit", config.python_executable + " " +
     os.path.join(config.llmc_src_root, "test", "tools", "expect-exit.py")))
config.substitutions.append(
    ("%models", os.path.join(config.llmc_src_root, "models", "tiny")))

llvm_config.use_default_substitutions()
# FileCheck, not, count live here in the Debian packages, off PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llmc_tools_dir, append_path=True)

tools = [
    ToolSubst("llmc-opt", unresolved="fatal"),
    ToolSubst("llmc", unresolved="fatal"),
    ToolSubst("llm-run", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, [config.llmc_tools_dir])
