#include "eval/scenes/voc_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/scenes/categories.h"
#include "eval/scenes/image_file.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::scenes {

std::string VocAnnotationXml(const Scene& scene, const std::string& id) {
  std::string xml = absl::StrCat(
      "<annotation>\n"
      "\t<folder>",
      kVocYearDir,
      "</folder>\n"
      "\t<filename>",
      id,
      ".jpg</filename>\n"
      "\t<source>\n"
      "\t\t<database>Fashion-MNIST scenes</database>\n"
      "\t\t<annotation>MoCHi benchmark suite</annotation>\n"
      "\t</source>\n"
      "\t<size>\n"
      "\t\t<width>",
      scene.width, "</width>\n\t\t<height>", scene.height,
      "</height>\n"
      "\t\t<depth>3</depth>\n"
      "\t</size>\n"
      "\t<segmented>0</segmented>\n");
  for (const SceneInstance& instance : scene.instances) {
    const Box& box = instance.box;
    absl::StrAppend(&xml, "\t<object>\n\t\t<name>", SceneCategories()[instance.label].name,
                    "</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>",
                    instance.truncated ? 1 : 0, "</truncated>\n\t\t<difficult>",
                    instance.difficult || instance.is_crowd ? 1 : 0,
                    "</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>", box.x + 1, "</xmin>\n\t\t\t<ymin>",
                    box.y + 1, "</ymin>\n\t\t\t<xmax>", box.x + box.width, "</xmax>\n\t\t\t<ymax>",
                    box.y + box.height, "</ymax>\n\t\t</bndbox>\n\t</object>\n");
  }
  absl::StrAppend(&xml, "</annotation>\n");
  return xml;
}

absl::StatusOr<std::unique_ptr<VocWriter>> VocWriter::Create(const VocWriterOptions& options) {
  if (options.devkit_root.empty()) {
    return absl::InvalidArgumentError("voc writer: devkit_root must be set");
  }
  std::unique_ptr<VocWriter> writer(new VocWriter(options));
  const std::string root = writer->year_root();
  for (const char* dir : {"/JPEGImages", "/Annotations", "/ImageSets/Main"}) {
    MOCHI_RETURN_IF_ERROR(MakeDirectories(absl::StrCat(root, dir)));
  }
  return writer;
}

std::string VocWriter::year_root() const {
  return absl::StrCat(options_.devkit_root, "/", kVocYearDir);
}

absl::Status VocWriter::Add(const Scene& scene, SceneSplit split, const std::string& id) {
  MOCHI_ASSIGN_OR_RETURN(std::string jpeg,
                         EncodeJpeg(scene.rgb, scene.width, scene.height, options_.jpeg_quality));
  return AddEncoded(scene, split, id, jpeg);
}

absl::Status VocWriter::AddEncoded(const Scene& scene, SceneSplit split, const std::string& id,
                                   const std::string& jpeg) {
  if (id.empty() || id.find_first_of("/\\ \t\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("voc writer: bad image id \"", id, "\""));
  }
  if (!ids_.insert(id).second) {
    return absl::InvalidArgumentError(absl::StrCat("voc writer: image id ", id, " repeated"));
  }
  MOCHI_RETURN_IF_ERROR(
      WriteFileBytes(absl::StrCat(year_root(), "/JPEGImages/", id, ".jpg"), jpeg));
  MOCHI_RETURN_IF_ERROR(WriteFileBytes(absl::StrCat(year_root(), "/Annotations/", id, ".xml"),
                                       VocAnnotationXml(scene, id)));
  Entry entry{id, std::vector<int>(kNumSceneCategories, -1)};
  for (const SceneInstance& instance : scene.instances) {
    int& flag = entry.class_flags[instance.label];
    if (instance.difficult || instance.is_crowd) {
      if (flag < 0) flag = 0;
    } else {
      flag = 1;
    }
  }
  splits_[SplitIndex(split)].push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status VocWriter::Finish() {
  const std::string main_dir = absl::StrCat(year_root(), "/ImageSets/Main/");
  struct ListSpec {
    const char* name;
    std::vector<const std::vector<Entry>*> parts;
  };
  const ListSpec lists[] = {{"train", {&splits_[0]}},
                            {"val", {&splits_[1]}},
                            {"trainval", {&splits_[0], &splits_[1]}},
                            {"test", {&splits_[2]}}};
  for (const ListSpec& list : lists) {
    std::string ids;
    std::vector<std::string> per_class(kNumSceneCategories);
    for (const std::vector<Entry>* part : list.parts) {
      for (const Entry& entry : *part) {
        absl::StrAppend(&ids, entry.id, "\n");
        for (int c = 0; c < kNumSceneCategories; ++c) {
          absl::StrAppend(&per_class[c],
                          absl::StrFormat("%s %2d\n", entry.id, entry.class_flags[c]));
        }
      }
    }
    MOCHI_RETURN_IF_ERROR(WriteFileBytes(absl::StrCat(main_dir, list.name, ".txt"), ids));
    for (int c = 0; c < kNumSceneCategories; ++c) {
      MOCHI_RETURN_IF_ERROR(WriteFileBytes(
          absl::StrCat(main_dir, SceneCategories()[c].name, "_", list.name, ".txt"), per_class[c]));
    }
  }
  return absl::OkStatus();
}

}  // namespace mochi::eval::scenes
