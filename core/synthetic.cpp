#include "core/synthetic.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include "core/waybill.hpp"

namespace postgate::core {

namespace {

using namespace std::chrono;

// Mainland province-level codes; 71 and 81-83 are left out because they are
// not where resident ids are normally issued.
constexpr std::array<std::string_view, 31> kProvinces{
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"};

constexpr std::array<std::string_view, 20> kSurnames{"王", "李", "张", "刘", "陈", "杨", "黄",
                                                     "赵", "吴", "周", "徐", "孙", "马", "朱",
                                                     "胡", "郭", "何", "高", "林", "罗"};

constexpr std::array<std::string_view, 30> kGiven{
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "文", "辉", "鑫", "宇"};

template <class Array>
std::string_view pick(RandomSource& random, const Array& items) {
  return items[uniform(random, items.size())];
}

std::string digits(RandomSource& random, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<char>('0' + uniform(random, 10)));
  return out;
}

}  // namespace

std::uint64_t uniform(RandomSource& random, std::uint64_t bound) {
  // Values below `threshold` would make some results more likely than others.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = random.next();
    if (r >= threshold) return r % bound;
  }
}

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

SyntheticPerson make_person(RandomSource& random, Date today) {
  const sys_days hi = std::min(sys_days{Date{year{2005}, December, day{31}}}, sys_days{today});
  const sys_days lo = std::min(sys_days{Date{year{1940}, January, day{1}}}, hi);
  const auto span = static_cast<std::uint64_t>((hi - lo).count()) + 1;
  const Date birth{lo + days{static_cast<int>(uniform(random, span))}};

  SyntheticPerson p;
  p.birth_date = birth;
  char date[32];  // roomy: the compiler cannot see that the fields are small
  std::snprintf(date, sizeof date, "%04d%02u%02u", static_cast<int>(birth.year()),
                static_cast<unsigned>(birth.month()), static_cast<unsigned>(birth.day()));
  std::string id =
      std::string(pick(random, kProvinces)) + digits(random, 4) + date + digits(random, 3);
  p.sex = (id[16] - '0') % 2 == 1 ? Sex::male : Sex::female;
  id.push_back(*gb11643_check_char(id));
  p.resident_id = std::move(id);

  p.name = std::string(pick(random, kSurnames));
  const int given = uniform(random, 3) == 0 ? 1 : 2;  // most names have two given characters
  for (int i = 0; i < given; ++i) p.name += pick(random, kGiven);
  return p;
}

std::string make_s10(RandomSource& random, std::string_view prefix, std::string_view country) {
  const std::string serial = digits(random, 8);
  return std::string(prefix) + serial + static_cast<char>('0' + *upu_s10_check_digit(serial)) +
         std::string(country);
}

}  // namespace postgate::core
