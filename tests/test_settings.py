"""Settings that cannot be used are named (file, key, value, rule) before anything runs."""

import subprocess

import pytest
import yaml

from helpers import REPO, SNAKEMAKE
from premeta.cli import main
from premeta.errors import SettingsError
from premeta.settings import problems, read_config_file

SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!foo"])
def test_a_yaml_tag_in_a_config_file_is_named_with_the_file(tmp_path, tag):
    path = tmp_path / "review.yaml"
    path.write_text(f"data: my_sheet.csv\nmethod: {tag} DL\n")
    with pytest.raises(SettingsError) as error:
        read_config_file(path)
    name = tag.split(":")[0].replace("!!", "tag:yaml.org,2002:")  # as PyYAML spells the tag
    assert str(error.value).startswith(f"{path}, line 2: not a valid YAML config file: could not determine a "
                                       f"constructor for the tag '{name}")
    assert "YAML tags such as !!python/object or !foo are not accepted" in str(error.value)


def test_premeta_run_names_the_config_file_snakemake_cannot_read(tmp_path, capsys):
    path = tmp_path / "review.yaml"
    path.write_text("data: my_sheet.csv\nmethod: !foo DL\n")
    assert main(["run", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"premeta: {path}, line 2: not a valid YAML config file") and "Traceback" not in err


@pytest.mark.workflow
def test_snakemake_names_the_bundled_config_file_when_it_is_not_plain_yaml(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("data: my_sheet.csv\nlevel: !!python/object:int 90\n")
    out = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-n"], cwd=tmp_path, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(
        f"premeta: {tmp_path / 'config' / 'config.yaml'}, line 2: not a valid YAML config file")


def test_problems_say_where_each_key_was_given():
    config = {"data": "s.csv", "level": 100, "labels": {"treatment": "", "sham": "x"}, "measure": "smd"}
    assert problems(config, SCHEMA, command_line={"measure"}, files=["review.yaml"]) == [
        "key 'labels.sham', value 'x' (in review.yaml): not a premeta setting (the settings of labels are "
        "treatment, control)",
        "key 'labels.treatment', value '' (in review.yaml): must not be empty",
        "key 'level', value 100 (in review.yaml): must be less than 100; level: confidence level in percent",
        "key 'measure', value 'smd' (from --config): must be one of SMD, MD, ROM, NMD, CVR, VR"]
    assert problems({}, SCHEMA, files=["review.yaml"]) == ["key 'data' is missing (in review.yaml): it is required"]
