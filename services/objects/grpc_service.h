#pragma once

#include "services/common/grpc_adapter.h"
#include "services/objects/grpc_streams.h"
#include "services/objects/object_service.h"
#include "thingtank/objects/v1/objects.grpc.pb.h"

namespace thingtank::objects {

// The gRPC face of the objects domain: unary calls run on the executor;
// PutObject and UploadPart are client streams and GetObject a server stream
// on the StreamRunner (grpc_streams.h), one message at a time, so neither a
// fast writer nor a slow reader makes the server buffer more than a chunk.
// Does not own its dependencies.
class ObjectsGrpcService final : public GrpcAdapter<v1::ObjectsService::CallbackService> {
 public:
  ObjectsGrpcService(ObjectService* d, UnaryRunner* runner)
      : GrpcAdapter(v1::ObjectsService::service_full_name(), runner) {
#define TT_OBJECTS_UNARY(part, Method) \
  Unary<v1::Method##Request>(#Method, [d](const v1::Method##Request& r) { return d->part->Method(r); })
    TT_OBJECTS_UNARY(buckets, CreateBucket);
    TT_OBJECTS_UNARY(buckets, HeadBucket);
    TT_OBJECTS_UNARY(buckets, ListBuckets);
    TT_OBJECTS_UNARY(buckets, DeleteBucket);
    TT_OBJECTS_UNARY(buckets, PutBucketTagging);
    TT_OBJECTS_UNARY(buckets, GetBucketTagging);
    TT_OBJECTS_UNARY(buckets, DeleteBucketTagging);
    TT_OBJECTS_UNARY(buckets, PutBucketVersioning);
    TT_OBJECTS_UNARY(buckets, GetBucketVersioning);
    TT_OBJECTS_UNARY(buckets, PutBucketLifecycleConfiguration);
    TT_OBJECTS_UNARY(buckets, GetBucketLifecycleConfiguration);
    TT_OBJECTS_UNARY(buckets, DeleteBucketLifecycle);
    TT_OBJECTS_UNARY(buckets, PutBucketNotificationConfiguration);
    TT_OBJECTS_UNARY(buckets, GetBucketNotificationConfiguration);
    TT_OBJECTS_UNARY(buckets, PutBucketCors);
    TT_OBJECTS_UNARY(buckets, GetBucketCors);
    TT_OBJECTS_UNARY(buckets, DeleteBucketCors);
    TT_OBJECTS_UNARY(objects, HeadObject);
    TT_OBJECTS_UNARY(objects, DeleteObject);
    TT_OBJECTS_UNARY(objects, DeleteObjects);
    TT_OBJECTS_UNARY(objects, CopyObject);
    TT_OBJECTS_UNARY(objects, PutObjectTagging);
    TT_OBJECTS_UNARY(objects, GetObjectTagging);
    TT_OBJECTS_UNARY(objects, DeleteObjectTagging);
    TT_OBJECTS_UNARY(lister, ListObjectsV2);
    TT_OBJECTS_UNARY(lister, ListObjectVersions);
    TT_OBJECTS_UNARY(lister, ListMultipartUploads);
    TT_OBJECTS_UNARY(multipart, CreateMultipartUpload);
    TT_OBJECTS_UNARY(multipart, UploadPartCopy);
    TT_OBJECTS_UNARY(multipart, ListParts);
    TT_OBJECTS_UNARY(multipart, CompleteMultipartUpload);
    TT_OBJECTS_UNARY(multipart, AbortMultipartUpload);
#undef TT_OBJECTS_UNARY

    ObjectStore* objects = d->objects.get();
    MultipartOps* multipart = d->multipart.get();
    auto open_put = [objects](const v1::PutObjectHeader& h) { return objects->StartPut(h); };
    auto open_part = [multipart](const v1::UploadPartHeader& h) { return multipart->StartPart(h); };
    ClientStream<v1::PutObjectRequest, v1::PutObjectResponse>("PutObject", [open_put](auto*) {
      return std::make_unique<UploadStream<v1::PutObjectRequest, v1::PutObjectResponse,
                                           v1::PutObjectHeader, PutSession, decltype(open_put)>>(open_put);
    });
    ClientStream<v1::UploadPartRequest, v1::UploadPartResponse>("UploadPart", [open_part](auto*) {
      return std::make_unique<UploadStream<v1::UploadPartRequest, v1::UploadPartResponse,
                                           v1::UploadPartHeader, PartSession, decltype(open_part)>>(open_part);
    });
    PulledServerStream<v1::GetObjectRequest, v1::GetObjectResponse>(
        "GetObject", [objects](auto*) { return std::make_unique<GetObjectStream>(objects); });
    if (!HandlesEveryMethod()) abort();
  }
};

}  // namespace thingtank::objects
