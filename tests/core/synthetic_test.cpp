#include "core/synthetic.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/identity.hpp"
#include "core/utf8.hpp"
#include "core/waybill.hpp"

namespace postgate::core {
namespace {

using namespace std::chrono;

constexpr Date kToday{year{2026}, November, day{23}};

// Replays fixed values, to drive uniform() through its rejection branch.
class Scripted final : public RandomSource {
 public:
  explicit Scripted(std::vector<std::uint64_t> values) : values_(std::move(values)) {}
  std::uint64_t next() override { return values_.at(i_++); }
  std::size_t used() const { return i_; }

 private:
  std::vector<std::uint64_t> values_;
  std::size_t i_ = 0;
};

TEST(SplitMix64, ReferenceSequenceForSeedZero) {
  SplitMix64 r(0);
  EXPECT_EQ(r.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(r.next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(r.next(), 0x06C45D188009454FULL);
}

TEST(SplitMix64, SameSeedSameSequence) {
  SplitMix64 a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
}

TEST(Uniform, StaysBelowTheBound) {
  SplitMix64 r(7);
  for (const std::uint64_t bound : {1ULL, 2ULL, 3ULL, 10ULL, 1000ULL, 0xFFFFFFFFFFFFFFFFULL})
    for (int i = 0; i < 1000; ++i) EXPECT_LT(uniform(r, bound), bound);
}

TEST(Uniform, RejectsTheBiasedLowRange) {
  // 2^64 mod 3 = 1, so the single value 0 would favour result 0 and is redrawn.
  Scripted s({0, 5});
  EXPECT_EQ(uniform(s, 3), 2u);
  EXPECT_EQ(s.used(), 2u);
  Scripted t({1});
  EXPECT_EQ(uniform(t, 3), 1u);
}

TEST(Uniform, RoughlyEven) {
  SplitMix64 r(11);
  int counts[10] = {};
  for (int i = 0; i < 100000; ++i) ++counts[uniform(r, 10)];
  for (const int c : counts) {
    EXPECT_GT(c, 9500);
    EXPECT_LT(c, 10500);
  }
}

TEST(MakePerson, TenThousandPeopleAllValidate) {
  SplitMix64 r(2026);
  const Date earliest{year{1940}, January, day{1}}, latest{year{2005}, December, day{31}};
  std::set<std::string> ids;
  int male = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto p = make_person(r, kToday);
    auto doc = validate_identity(DocType::resident_id, p.resident_id, p.name, kToday);
    ASSERT_TRUE(doc.has_value()) << "person " << i << ": " << doc.error().code;
    EXPECT_EQ(doc->birth_date, p.birth_date);
    EXPECT_EQ(doc->sex, p.sex);
    EXPECT_EQ(doc->name, p.name);
    EXPECT_GE(p.birth_date, earliest);
    EXPECT_LE(p.birth_date, latest);
    const auto len = utf8::length(p.name);
    EXPECT_TRUE(len == 2 || len == 3) << len;
    ids.insert(p.resident_id);
    male += p.sex == Sex::male;
  }
  EXPECT_GT(ids.size(), 9990u);  // collisions are possible but rare
  EXPECT_GT(male, 4500);
  EXPECT_LT(male, 5500);
}

TEST(MakePerson, ReproducibleFromTheSeed) {
  SplitMix64 a(5), b(5);
  for (int i = 0; i < 50; ++i) {
    const auto p = make_person(a, kToday), q = make_person(b, kToday);
    EXPECT_EQ(p.resident_id, q.resident_id);
    EXPECT_EQ(p.name, q.name);
  }
}

TEST(MakePerson, NeverBornAfterToday) {
  SplitMix64 r(3);
  const Date today{year{1990}, June, day{1}};
  for (int i = 0; i < 2000; ++i) {
    const auto p = make_person(r, today);
    EXPECT_LE(p.birth_date, today);
    EXPECT_TRUE(validate_identity(DocType::resident_id, p.resident_id, p.name, today).has_value());
  }
}

TEST(MakePerson, CoversTheWholeDateRange) {
  SplitMix64 r(9);
  int before_1950 = 0, after_1995 = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto y = static_cast<int>(make_person(r, kToday).birth_date.year());
    before_1950 += y < 1950;
    after_1995 += y > 1995;
  }
  EXPECT_GT(before_1950, 400);
  EXPECT_GT(after_1995, 400);
}

TEST(MakeS10, ValidWithPrefixAndCountry) {
  SplitMix64 r(1);
  const WaybillValidator v;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const auto n = make_s10(r);
    ASSERT_EQ(n.size(), 13u);
    EXPECT_TRUE(n.starts_with("EA"));
    EXPECT_TRUE(n.ends_with("CN"));
    ASSERT_TRUE(is_valid_upu_s10(n)) << n;
    EXPECT_EQ(v.validate(n)->carrier, "upu_s10");
    seen.insert(n);
  }
  EXPECT_GT(seen.size(), 9990u);
  const auto rr = make_s10(r, "RR", "GB");
  EXPECT_TRUE(rr.starts_with("RR"));
  EXPECT_TRUE(rr.ends_with("GB"));
  EXPECT_TRUE(is_valid_upu_s10(rr));
}

}  // namespace
}  // namespace postgate::core
