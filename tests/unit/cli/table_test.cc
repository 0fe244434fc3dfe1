#include "cli/table.h"

#include <gtest/gtest.h>

namespace baton::cli {
namespace {

TEST(TableTest, PadsColumnsToTheWidestCellWithTwoSpaces) {
  Table table({"ID", "STATUS"});
  table.AddRow({"a1", "completed"});
  table.AddRow({"bbbbbb", "running"});
  EXPECT_EQ(table.Render(),
            "ID      STATUS\n"
            "a1      completed\n"
            "bbbbbb  running\n");
}

TEST(TableTest, RightAlignedColumnsPadOnTheLeft) {
  Table table({"NAME", "ELAPSED", "X"});
  table.SetAlign(1, Table::Align::kRight);
  table.AddRow({"a", "12ms", "x"});
  table.AddRow({"b", "1.5s", "y"});
  table.AddRow({"c", "3m04s", "z"});
  EXPECT_EQ(table.Render(),
            "NAME  ELAPSED  X\n"
            "a        12ms  x\n"
            "b        1.5s  y\n"
            "c       3m04s  z\n");
}

TEST(TableTest, LinesHaveNoTrailingBlanks) {
  Table table({"A", "B"});
  table.AddRow({"long value", ""});
  EXPECT_EQ(table.Render(),
            "A           B\n"
            "long value\n");
}

TEST(TableTest, CountsUtf8CodePointsNotBytes) {
  Table table({"NAME", "V"});
  table.AddRow({"café", "1"});
  table.AddRow({"abcde", "2"});
  EXPECT_EQ(table.Render(),
            "NAME   V\n"
            "café   1\n"
            "abcde  2\n");
  EXPECT_EQ(DisplayWidth("café"), 4u);
  EXPECT_EQ(DisplayWidth("✔ ok"), 4u);
}

TEST(TableTest, ControlCharactersBecomeSpacesSoARowStaysOneLine) {
  Table table({"ERROR"});
  table.AddRow({"line one\nline two\ttab"});
  EXPECT_EQ(table.Render(), "ERROR\nline one line two tab\n");
}

TEST(TableTest, MissingCellsAreEmptyAndExtraCellsAreDropped) {
  Table table({"A", "B", "C"});
  table.AddRow({"1"});
  table.AddRow({"1", "2", "3", "4"});
  EXPECT_EQ(table.rows(), 2u);
  EXPECT_EQ(table.Render(),
            "A  B  C\n"
            "1\n"
            "1  2  3\n");
}

TEST(TableTest, AnEmptyTableIsItsHeader) {
  Table table({"SEQ", "KIND"});
  EXPECT_EQ(table.Render(), "SEQ  KIND\n");
}

}  // namespace
}  // namespace baton::cli
