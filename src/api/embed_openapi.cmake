# Writes OUTPUT, a C++ source defining baton::api::OpenApiDocument() as the text of INPUT.
# Run by the build (cmake -DINPUT=... -DOUTPUT=... -P embed_openapi.cmake) whenever INPUT
# changes; see the api block of the top-level CMakeLists.txt.
file(READ "${INPUT}" BATON_OPENAPI_TEXT)
string(FIND "${BATON_OPENAPI_TEXT}" ")baton_openapi\"" BATON_OPENAPI_CLASH)
if(NOT BATON_OPENAPI_CLASH EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )baton_openapi\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_openapi.cmake. Do not edit.\n"
  "#include \"api/openapi.h\"\n\n"
  "namespace baton::api {\n\n"
  "std::string_view OpenApiDocument() {\n"
  "  static constexpr std::string_view kDocument = R\"baton_openapi(${BATON_OPENAPI_TEXT})baton_openapi\";\n"
  "  return kDocument;\n"
  "}\n\n"
  "}  // namespace baton::api\n")
# Only touch OUTPUT when its content changes, so an unchanged document does not recompile.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
