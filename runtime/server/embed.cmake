# Writes the chat page (IN) as a C++ string (OUT), so the binary serves it
# with no file next to it. The delimiter never occurs in the page.
file(READ ${IN} page)
string(FIND "${page}" ")llmc_page\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter")
endif()
file(WRITE ${OUT}.tmp
  "// Generated from runtime/server/chat.html by embed.cmake.\n"
  "namespace llmc::server {\n"
  "extern const char *const kChatPage;\n"
  "const char *const kChatPage = R\"llmc_page(${page})llmc_page\";\n"
  "} // namespace llmc::server\n")
file(RENAME ${OUT}.tmp ${OUT})
