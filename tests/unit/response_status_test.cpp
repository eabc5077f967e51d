#include "protocol/response_status.h"

#include <gmock/gmock.h>

#include "protocol/sndif_abi.h"

namespace xensnd {
namespace {

using ::testing::HasSubstr;

TEST(ResponseStatus, SuccessAndExpectedErrors) {
  EXPECT_EQ(map_response_status(0, XENSND_OP_OPEN).errno_value, 0);
  EXPECT_TRUE(map_response_status(0, XENSND_OP_OPEN).message.empty());
  for (int e : {EINVAL, ENOMEM, EBUSY, ENODEV, EIO, ENOSYS, EOPNOTSUPP})
    EXPECT_EQ(map_response_status(-e, XENSND_OP_WRITE).errno_value, e) << e;
  EXPECT_EQ(map_response_status(-524, XENSND_OP_HW_PARAM_QUERY).errno_value, EOPNOTSUPP);
}

TEST(ResponseStatus, AnythingElseIsEioWithTheRawValue) {
  for (int32_t raw : {-EAGAIN, -EPIPE, -ESTRPIPE, 1, 42, -100000, INT32_MIN}) {
    MappedStatus m = map_response_status(raw, XENSND_OP_WRITE);
    EXPECT_EQ(m.errno_value, EIO) << raw;
    EXPECT_THAT(m.message, HasSubstr(std::to_string(raw)));
    EXPECT_THAT(m.message, HasSubstr("WRITE"));
  }
}

TEST(ResponseStatus, OperationNames) {
  EXPECT_EQ(operation_name(XENSND_OP_HW_PARAM_QUERY), "HW_PARAM_QUERY");
  EXPECT_EQ(operation_name(200), "operation 200");
}

}  // namespace
}  // namespace xensnd
