// The candidates of the selected head at the selected step: what the profile measured for each (error and
// recall over the prompts, densities, time of one launch). Sortable; clicking a row makes it the head's pattern.
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

void number_cell(double v, const char* format) {
  if (std::isnan(v)) {
    ImGui::TextDisabled("n/a");
  } else {
    ImGui::Text(format, v);
  }
}

}  // namespace

void draw_candidate_panel(AppState& s) {
  if (!s.doc) return;
  Document& doc = *s.doc;
  const HeadFigures f = head_figures(doc.view(), doc.plan(), doc.index(), s.aggregate, s.sel.step, s.sel.layer, s.sel.head);
  const data::ScheduleEntry* entry = doc.plan().entry_for(sampler_step(s));
  ImGui::Text("Candidates for layer %lld, head %lld at step %lld", static_cast<long long>(s.sel.layer),
              static_cast<long long>(s.sel.head), static_cast<long long>(sampler_step(s)));
  if (entry != nullptr) {
    ImGui::TextDisabled("click a row to assign it (steps [%lld, %lld)); error/recall: %s",
                        static_cast<long long>(entry->step_begin), static_cast<long long>(entry->step_end),
                        to_string(s.aggregate));
  } else {
    ImGui::TextDisabled("click a row to assign it (creates a schedule entry); error/recall: %s", to_string(s.aggregate));
  }

  auto rows = candidate_rows(doc.view(), s.aggregate, s.sel.step, s.sel.layer, s.sel.head, f.candidate);
  constexpr ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                    ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX | ImGuiTableFlags_SizingFixedFit |
                                    ImGuiTableFlags_Resizable;
  if (!ImGui::BeginTable("##candidates", 8, flags, ImGui::GetContentRegionAvail())) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("", ImGuiTableColumnFlags_NoSort | ImGuiTableColumnFlags_WidthFixed, 14.0f);
  ImGui::TableSetupColumn("id", ImGuiTableColumnFlags_DefaultSort, 0.0f, static_cast<ImGuiID>(CandidateColumn::id));
  ImGui::TableSetupColumn("pattern", 0, 0.0f, static_cast<ImGuiID>(CandidateColumn::pattern));
  ImGui::TableSetupColumn("blocks", 0, 0.0f, static_cast<ImGuiID>(CandidateColumn::block_density));
  ImGui::TableSetupColumn("tokens", 0, 0.0f, static_cast<ImGuiID>(CandidateColumn::token_density));
  ImGui::TableSetupColumn("error", 0, 0.0f, static_cast<ImGuiID>(CandidateColumn::error));
  ImGui::TableSetupColumn("recall", 0, 0.0f, static_cast<ImGuiID>(CandidateColumn::recall));
  ImGui::TableSetupColumn("us", 0, 0.0f, static_cast<ImGuiID>(CandidateColumn::time));
  ImGui::TableHeadersRow();
  if (const ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs != nullptr && specs->SpecsCount > 0) {
    const ImGuiTableColumnSortSpecs& spec = specs->Specs[0];
    sort_rows(rows, static_cast<CandidateColumn>(spec.ColumnUserID), spec.SortDirection == ImGuiSortDirection_Ascending);
  }
  for (const CandidateRow& r : rows) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float sz = ImGui::GetFontSize() * 0.8f;
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImVec2(p.x, p.y + 2), ImVec2(p.x + sz, p.y + 2 + sz),
        to_imgui(candidate_colour(doc.view(), doc.index(), r.candidate)));
    ImGui::TableSetColumnIndex(1);
    char label[32];
    std::snprintf(label, sizeof label, "%d##c%lld", r.id, static_cast<long long>(r.candidate));
    if (ImGui::Selectable(label, r.chosen, ImGuiSelectableFlags_SpanAllColumns) && !r.chosen) {
      s.attempt("Assigning a candidate", [&] { doc.assign_candidate(s.sel.step, s.sel.layer, s.sel.head, r.candidate); });
    }
    ImGui::TableSetColumnIndex(2);
    ImGui::TextUnformatted(r.pattern.c_str());
    ImGui::TableSetColumnIndex(3);
    number_cell(r.block_density, "%.3f");
    ImGui::TableSetColumnIndex(4);
    number_cell(r.token_density, "%.3f");
    ImGui::TableSetColumnIndex(5);
    number_cell(r.error, "%.4f");
    ImGui::TableSetColumnIndex(6);
    number_cell(r.recall, "%.4f");
    ImGui::TableSetColumnIndex(7);
    number_cell(r.time_us, "%.1f");
  }
  ImGui::EndTable();
}

}  // namespace svdit::analyzer::ui
