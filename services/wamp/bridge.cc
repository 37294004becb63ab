#include "services/wamp/bridge.h"

#include <cctype>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // SerializationTraits for protobuf messages
#include "services/common/grpc_status.h"
#include "services/common/status.h"

namespace thingtank::wamp {

namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(60);

ProcedureOutcome ErrorFrom(const grpc::Status& status) {
  const absl::Status s = FromGrpcStatus(status);
  const std::string code = absl::StatusCodeToString(s.code());
  Json kwargs = Json::object({{"code", code}});
  if (std::string reason = ErrorReason(s); !reason.empty()) kwargs["reason"] = reason;
  if (std::string field = ErrorField(s); !field.empty()) kwargs["field"] = field;
  return ProcedureOutcome::Error(absl::StrCat("thingtank.error.", absl::AsciiStrToLower(code)),
                                 std::string(s.message()), std::move(kwargs));
}

}  // namespace

std::string Bridge::SnakeCase(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Bridge::Bridge(
    const std::map<std::string, std::vector<const google::protobuf::ServiceDescriptor*>>&
        services) {
  for (const auto& [short_name, descriptors] : services) {
    for (const auto* service : descriptors) {
      for (int i = 0; i < service->method_count(); ++i) {
        const auto* method = service->method(i);
        if (method->client_streaming() || method->server_streaming()) continue;
        methods_[absl::StrCat("thingtank.", short_name, ".", SnakeCase(method->name()))] = method;
      }
    }
  }
}

std::vector<std::string> Bridge::procedures() const {
  std::vector<std::string> out;
  for (const auto& [name, method] : methods_) out.push_back(name);
  return out;
}

void Bridge::Install(Router* router) {
  router->Provide("thingtank.", MatchPolicy::kPrefix,
                  [this](ProcedureCall call, std::function<void(ProcedureOutcome)> done) {
                    Invoke(std::move(call), std::move(done));
                  });
}

void Bridge::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  absl::MutexLock lock(&mu_);
  stub_ = std::make_shared<grpc::GenericStub>(std::move(channel));
}

void Bridge::Invoke(ProcedureCall call, std::function<void(ProcedureOutcome)> done) {
  auto it = methods_.find(call.procedure);
  if (it == methods_.end()) {
    return done(ProcedureOutcome::Error(
        "wamp.error.no_such_procedure",
        absl::StrCat("no procedure '", call.procedure,
                     "': ThingTank procedures are thingtank.<service>.<method_in_snake_case>")));
  }
  const google::protobuf::MethodDescriptor* method = it->second;
  // The request: keyword arguments, or a single object as the positional argument.
  Json request_json = call.kwargs;
  if (request_json.empty() && call.args.is_array() && call.args.size() == 1 &&
      call.args[0].is_object()) {
    request_json = call.args[0];
  } else if (call.args.is_array() && !call.args.empty()) {
    return done(ProcedureOutcome::Error(
        "wamp.error.invalid_argument",
        "pass the request as keyword arguments (or one object as the only argument)"));
  }
  static google::protobuf::DynamicMessageFactory* factory = new google::protobuf::DynamicMessageFactory();
  std::unique_ptr<google::protobuf::Message> request(
      factory->GetPrototype(method->input_type())->New());
  google::protobuf::util::JsonParseOptions parse_options;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      request_json.dump(-1, ' ', false, Json::error_handler_t::replace), request.get(),
      parse_options);
  if (!parsed.ok()) {
    return done(ProcedureOutcome::Error(
        "wamp.error.invalid_argument",
        absl::StrCat(method->input_type()->name(), ": ", std::string(parsed.message())),
        Json::object({{"code", "INVALID_ARGUMENT"}})));
  }
  std::shared_ptr<grpc::GenericStub> stub;
  {
    absl::MutexLock lock(&mu_);
    stub = stub_;
  }
  if (stub == nullptr) {
    return done(ErrorFrom(grpc::Status(grpc::StatusCode::UNAVAILABLE, "ThingTank is starting")));
  }
  struct State {
    grpc::ClientContext context;
    grpc::ByteBuffer request, response;
  };
  auto state = std::make_shared<State>();
  bool own_buffer = false;
  if (!grpc::SerializationTraits<google::protobuf::Message>::Serialize(*request, &state->request,
                                                                        &own_buffer)
           .ok()) {
    return done(ProcedureOutcome::Error("wamp.error.invalid_argument", "unserializable request"));
  }
  state->context.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::milliseconds(absl::ToInt64Milliseconds(kCallDeadline)));
  const std::string path =
      absl::StrCat("/", method->service()->full_name(), "/", method->name());
  stub->UnaryCall(
      &state->context, path, grpc::StubOptions(), &state->request, &state->response,
      [state, method, done = std::move(done)](grpc::Status status) {
        if (!status.ok()) return done(ErrorFrom(status));
        std::unique_ptr<google::protobuf::Message> response(
            factory->GetPrototype(method->output_type())->New());
        if (!grpc::SerializationTraits<google::protobuf::Message>::Deserialize(
                 &state->response, response.get())
                 .ok()) {
          return done(ProcedureOutcome::Error("thingtank.error.internal", "unparsable response"));
        }
        google::protobuf::util::JsonPrintOptions print_options;
        print_options.preserve_proto_field_names = true;
        std::string json;
        (void)google::protobuf::util::MessageToJsonString(*response, &json, print_options);
        Json kwargs = Json::parse(json, nullptr, false);
        if (kwargs.is_discarded()) kwargs = Json::object();
        done(ProcedureOutcome::Result(Json::array(), std::move(kwargs)));
      });
}

}  // namespace thingtank::wamp
