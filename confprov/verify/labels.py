"""Report labels in Vietnamese and English (``--lang vi|en``; default ``lang`` in confprov.yml).

Labels (headings, levels, check names, states) are translated; the reasons stay as measured and
worded by the checks (values, addresses, thresholds), which a technician reads the same in both.
"""

from __future__ import annotations

from confprov.domain import LEVEL_NAMES_VI

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Connection verification",
        "ready": "ready",
        "not_ready": "not ready",
        "sites": "sites",
        "site": "Site",
        "name": "Name",
        "level": "Level",
        "district": "District",
        "status": "Status",
        "reason": "Reason",
        "check": "Check",
        "host": "Host",
        "value": "Measured",
        "threshold": "Threshold",
        "by_level": "By level",
        "by_district": "By district or group",
        "no_district": "(no district)",
        "red_sites": "Not ready",
        "all_ready": "All sites ready.",
        "filter": "Filter",
        "only_not_ready": "only not ready",
        "run": "run",
        "province_state": "Province, latest state of every site",
        "changes": "Changes since run",
        "no_changes": "No site changed state.",
        "became_ready": "now ready",
        "no_longer_ready": "no longer ready",
        "first_verified": "first verified",
        "pass": "pass",
        "warn": "warning",
        "fail": "fail",
        "skip": "not run",
        "province": "province",
        "commune": "commune",
        "department": "department",
        "ssh": "SSH to endpoint",
        "gateway": "Gateway",
        "route": "Route to conference network",
        "dns": "DNS",
        "sip_port": "Signalling port",
        "sip_options": "SIP OPTIONS",
        "sip_register": "SIP REGISTER",
        "rtt": "Round trip",
        "jitter": "Jitter",
        "loss": "Packet loss",
        "bandwidth": "Bandwidth",
        "reorder": "Reordering",
        "clock": "Clock offset",
        "client_version": "Client installed",
        "client_config": "Client configured",
        "router": "Router",
        "details": "details",
        "generated": "Generated",
        "loss_15s": "Worst loss, any 15 s",
        "burst_200ms": "Worst loss, any 200 ms",
        "mos": "Estimated MOS",
        "room": "Room equipment",
        "charts": "Charts",
        "trend": "Trend",
        "mos_note": "The MOS is an estimate (ITU-T G.107 E-model, simplified, from the round "
        "trip, jitter and loss of the probe), not a measured call quality.",
    },
    "vi": {
        "title": "Kiểm tra kết nối điểm cầu",
        "ready": "sẵn sàng",
        "not_ready": "chưa sẵn sàng",
        "sites": "điểm cầu",
        "site": "Điểm cầu",
        "name": "Tên",
        "level": "Cấp",
        "district": "Huyện",
        "status": "Trạng thái",
        "reason": "Lý do",
        "check": "Kiểm tra",
        "host": "Máy",
        "value": "Đo được",
        "threshold": "Ngưỡng",
        "by_level": "Theo cấp",
        "by_district": "Theo huyện / nhóm",
        "no_district": "(không thuộc huyện)",
        "red_sites": "Chưa sẵn sàng",
        "all_ready": "Tất cả điểm cầu đã sẵn sàng.",
        "filter": "Lọc",
        "only_not_ready": "chỉ điểm chưa sẵn sàng",
        "run": "lần chạy",
        "province_state": "Toàn tỉnh, trạng thái mới nhất của mỗi điểm",
        "changes": "Thay đổi kể từ lần chạy",
        "no_changes": "Không điểm cầu nào đổi trạng thái.",
        "became_ready": "nay đã sẵn sàng",
        "no_longer_ready": "không còn sẵn sàng",
        "first_verified": "kiểm tra lần đầu",
        "pass": "đạt",
        "warn": "cảnh báo",
        "fail": "lỗi",
        "skip": "không chạy",
        "province": "tỉnh",
        "commune": "xã",
        "department": "sở, ngành",
        "ssh": "SSH tới thiết bị",
        "gateway": "Cổng mạng (gateway)",
        "route": "Định tuyến tới mạng hội nghị",
        "dns": "Phân giải tên (DNS)",
        "sip_port": "Cổng báo hiệu",
        "sip_options": "SIP OPTIONS",
        "sip_register": "Đăng ký SIP",
        "rtt": "Trễ khứ hồi",
        "jitter": "Độ biến thiên trễ (jitter)",
        "loss": "Mất gói",
        "bandwidth": "Băng thông",
        "reorder": "Gói sai thứ tự",
        "clock": "Lệch đồng hồ",
        "client_version": "Phần mềm hội nghị đã cài",
        "client_config": "Phần mềm đã cấu hình",
        "router": "Bộ định tuyến",
        "details": "chi tiết",
        "generated": "Tạo lúc",
        "loss_15s": "Mất gói tệ nhất trong 15 giây",
        "burst_200ms": "Mất gói tệ nhất trong 200 ms",
        "mos": "MOS ước tính",
        "room": "Thiết bị phòng họp",
        "charts": "Biểu đồ",
        "trend": "Xu hướng",
        "mos_note": "MOS là giá trị ước tính (mô hình E, ITU-T G.107, giản lược, từ trễ khứ hồi, "
        "jitter và mất gói của phép đo), không phải chất lượng cuộc gọi đo thực tế.",
    },
}
# Levels of the two-tier shape (since 2025): Vietnamese names from confprov/domain.py.
LABELS["en"].update({"ward": "ward", "special_zone": "special zone"})
LABELS["vi"].update({lv: LEVEL_NAMES_VI[lv] for lv in ("ward", "special_zone")})
LABELS["en"]["district_level"] = "district"
LABELS["vi"]["district_level"] = "huyện"
# Run scopes (runs.scope in the results store).
LABELS["en"].update(
    {"all": "all sites", "failed-only": "sites not ready before", "limit": "chosen sites"}
)
LABELS["vi"].update(
    {"all": "tất cả", "failed-only": "các điểm chưa sẵn sàng lần trước", "limit": "điểm được chọn"}
)

# A check nothing measured on a Windows endpoint (confprov/verify/windows.py): not a failure.
LABELS["en"]["unmeasured"] = "not measured on Windows"
LABELS["vi"]["unmeasured"] = "chưa đo trên Windows"


def label(lang: str, key: str) -> str:
    table = LABELS.get(lang, LABELS["en"])
    if key == "district":  # the level name, distinct from the column heading "District"
        return table["district_level"]
    return table.get(key, LABELS["en"].get(key, key))


def heading(lang: str, key: str) -> str:
    """A column heading (``district`` here is the heading, not the level)."""
    return LABELS.get(lang, LABELS["en"]).get(key, key)
