// postureclip enclosure: a parametric clip case for each reference build.
//   openscad -o base.stl -D 'build="wearable"' -D 'part="base"' clip.scad
// build: "wearable" | "breadboard"; part: "base" | "lid".
// Parts stack in layers from the floor (the side against the wearer's back); within a layer
// they sit in a row along +x, which points to the head (the arrow on the lid says so, and it
// is the firmware's sensor +x). Every part's box is echoed so the test suite can check the fit.
build = "wearable";
part = "base";

wall = 1.6;       // side walls
floor_t = 2.0;    // floor; thinner (0.8) under the motor pocket
lid_t = 1.6;
gap = 1.0;        // clearance between parts and around them
lip = 1.2;        // lid locating lip depth
slot_w = 26;      // strap slots for a 25 mm strap
slot_t = 3.2;
tab = 7;          // strap tab length beyond each end

// [name, length x, width y, height z, layer]; sizes match the BOM's size_mm
function parts_for(b) = b == "wearable" ? [
    ["battery", 35, 25, 4.2, 0],
    ["motor", 10, 10, 3.7, 0],
    ["board", 21, 17.8, 3.5, 1],
    ["imu", 25.4, 17.8, 2.5, 1],
    ["haptic", 20.3, 17.8, 2.5, 2],
    ["button", 6, 6, 5, 2]
] : [
    ["board", 54.4, 27.9, 10, 0],
    ["motor", 10, 10, 2.7, 1],
    ["imu", 21, 16, 3, 1],
    ["driver", 30, 20, 1.6, 1],
    ["button", 6, 6, 5, 1]
];

P = parts_for(build);
layers = max([for (p = P) p[4]]) + 1;
function layer_parts(l) = [for (p = P) if (p[4] == l) p];
function layer_h(l) = max([for (p = layer_parts(l)) p[3]]);
function layer_len(l) = let (lp = layer_parts(l))
    gap + sum([for (p = lp) p[1] + gap]);
function layer_w(l) = max([for (p = layer_parts(l)) p[2]]) + 2 * gap;
function sum(v, i = 0) = i >= len(v) ? 0 : v[i] + sum(v, i + 1);
function layer_z(l) = l == 0 ? 0 : layer_z(l - 1) + layer_h(l - 1) + gap;
// x of the i-th part within its layer
function part_x(l, i) = let (lp = layer_parts(l))
    gap + sum([for (k = [0:1:i - 1]) lp[k][1] + gap]);

cav_l = max([for (l = [0:layers - 1]) layer_len(l)]);
cav_w = max([for (l = [0:layers - 1]) layer_w(l)]);
cav_h = layer_z(layers - 1) + layer_h(layers - 1) + gap;
out_l = cav_l + 2 * wall;
out_w = cav_w + 2 * wall;
out_h = floor_t + cav_h;

echo("cavity", [cav_l, cav_w, cav_h]);
echo("outer", [out_l, out_w, out_h + lid_t]);
for (l = [0:layers - 1]) {
    lp = layer_parts(l);
    for (i = [0:len(lp) - 1])
        echo("part", lp[i][0], [part_x(l, i), (cav_w - lp[i][2]) / 2, layer_z(l)],
             [lp[i][1], lp[i][2], lp[i][3]]);
}

function find(name) = [for (l = [0:layers - 1]) let (lp = layer_parts(l))
    for (i = [0:len(lp) - 1]) if (lp[i][0] == name)
        [part_x(l, i), (cav_w - lp[i][2]) / 2, layer_z(l), lp[i][1], lp[i][2], lp[i][3]]][0];

module base() {
    m = find("motor");
    b = find("board");
    difference() {
        union() {
            cube([out_l, out_w, out_h]);
            // strap tabs at both ends, on the floor
            for (x = [-tab, out_l]) translate([x, 0, 0]) cube([tab, out_w, floor_t + 1]);
        }
        translate([wall, wall, floor_t]) cube([cav_l, cav_w, cav_h + 1]);
        // motor pocket: the motor sits 1.2 mm into the floor, closer to the skin
        translate([wall + m[0] - 0.5, wall + m[1] - 0.5, floor_t - 1.2])
            cube([m[3] + 1, m[4] + 1, 1.3]);
        // strap slots through the tabs
        for (x = [-tab + 2, out_l + tab - 2 - slot_t])
            translate([x, (out_w - slot_w) / 2, -1]) cube([slot_t, slot_w, floor_t + 3]);
        // USB opening in the end wall at -x, centred on the board
        translate([-1, wall + b[1] + b[4] / 2 - 5.5, floor_t + b[2]])
            cube([wall + 2, 11, 5]);
    }
}

module arrow() {
    // "this way up": an arrow pointing to +x (the head), 0.8 mm deep
    polygon([[0, -2], [12, -2], [12, -5], [20, 0], [12, 5], [12, 2], [0, 2]]);
}

module lid() {
    k = find("button");
    difference() {
        union() {
            cube([out_l, out_w, lid_t]);
            // locating lip inside the walls
            translate([wall + 0.2, wall + 0.2, -lip]) cube([cav_l - 0.4, cav_w - 0.4, lip]);
        }
        translate([wall + 1.2, wall + 1.2, -lip - 1]) cube([cav_l - 2.4, cav_w - 2.4, lip + 1]);
        // button plunger hole above the switch
        translate([wall + k[0] + k[3] / 2, wall + k[1] + k[4] / 2, -lip - 2])
            cylinder(d = 4, h = lid_t + lip + 4, $fn = 24);
        translate([out_l / 2 - 10, out_w / 2, lid_t - 0.8]) linear_extrude(1) arrow();
    }
}

if (part == "base") base();
else if (part == "lid") lid();
