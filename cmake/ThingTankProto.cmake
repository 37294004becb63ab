# Generated-code libraries, one per proto package, shared by servers, clients
# and the gateway. C++ goes into ${THINGTANK_GEN_DIR}; Python (for the Python
# client tests) into ${THINGTANK_GEN_DIR}/python.

set(THINGTANK_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
set(THINGTANK_GOOGLEAPIS_DIR ${CMAKE_SOURCE_DIR}/node_modules/google-proto-files)
if(NOT EXISTS ${THINGTANK_GOOGLEAPIS_DIR}/google/rpc/status.proto)
  message(FATAL_ERROR
    "google/rpc protos not found in ${THINGTANK_GOOGLEAPIS_DIR}. "
    "Run tools/setup.sh (it runs `npm ci` for buf and google-proto-files).")
endif()
file(MAKE_DIRECTORY ${THINGTANK_GEN_DIR}/python)

# thingtank_proto_library(<target> ROOT <dir> PROTOS <rel paths...> [GRPC] [DEPS <targets...>])
function(thingtank_proto_library target)
  cmake_parse_arguments(ARG "GRPC" "ROOT" "PROTOS;DEPS" ${ARGN})
  set(srcs)
  set(py_outs)
  set(includes -I${ARG_ROOT} -I${CMAKE_SOURCE_DIR}/proto -I${THINGTANK_GOOGLEAPIS_DIR} -I${Protobuf_INCLUDE_DIRS})
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outs ${THINGTANK_GEN_DIR}/${base}.pb.cc ${THINGTANK_GEN_DIR}/${base}.pb.h)
    set(args --cpp_out=${THINGTANK_GEN_DIR})
    if(ARG_GRPC)
      list(APPEND outs ${THINGTANK_GEN_DIR}/${base}.grpc.pb.cc ${THINGTANK_GEN_DIR}/${base}.grpc.pb.h)
      list(APPEND args --grpc_out=${THINGTANK_GEN_DIR}
                       --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc ${includes} ${args} ${ARG_ROOT}/${proto}
      DEPENDS ${ARG_ROOT}/${proto}
      COMMENT "protoc (C++) ${proto}")
    list(APPEND srcs ${THINGTANK_GEN_DIR}/${base}.pb.cc)
    if(ARG_GRPC)
      list(APPEND srcs ${THINGTANK_GEN_DIR}/${base}.grpc.pb.cc)
    endif()
    # Python, for the generated-client tests.
    set(py ${THINGTANK_GEN_DIR}/python/${base}_pb2.py)
    set(pyargs --python_out=${THINGTANK_GEN_DIR}/python)
    if(ARG_GRPC)
      list(APPEND py ${THINGTANK_GEN_DIR}/python/${base}_pb2_grpc.py)
      list(APPEND pyargs --grpc_python_out=${THINGTANK_GEN_DIR}/python
                         --plugin=protoc-gen-grpc_python=$<TARGET_FILE:gRPC::grpc_python_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${py}
      COMMAND protobuf::protoc ${includes} ${pyargs} ${ARG_ROOT}/${proto}
      DEPENDS ${ARG_ROOT}/${proto}
      COMMENT "protoc (Python) ${proto}")
    list(APPEND py_outs ${py})
  endforeach()
  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} PUBLIC ${THINGTANK_GEN_DIR})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
  endif()
  add_custom_target(${target}_python ALL DEPENDS ${py_outs})
endfunction()
